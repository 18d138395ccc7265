"""Outbound network access. Every request to a URL a user supplied goes through sgd.net.outbound's SSRF guard."""
