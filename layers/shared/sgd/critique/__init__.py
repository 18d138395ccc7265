"""The critic: measures a design's pixels against the brand canon, merges a vision model's findings, annotates."""
