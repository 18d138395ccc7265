"""Ingestion of brand material."""
