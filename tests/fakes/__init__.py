"""Loopback fakes of third-party services, for tests and benchmarks only (never imported by the product)."""
