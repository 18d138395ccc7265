"""FastAPI + Mangum plumbing shared by the HTTP functions."""
