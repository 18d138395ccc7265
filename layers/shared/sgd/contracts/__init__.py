"""Request and response models of every route: the API contract, shared by handlers and the OpenAPI document."""
