"""Adapters: each external system behind a small interface (storage, tables, vectors, model gateway, clock)."""
