"""Benchmarks: cold starts of the Lambda functions and the size of what `sam build` packages."""
