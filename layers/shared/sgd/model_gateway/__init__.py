"""The model gateway: one interface (sgd.model_gateway.port.ModelGateway) for every AI step; build.py picks its
implementation, the OpenRouter gateway (routing, openrouter, budget, policy, prompts) or the local engine."""
