"""The brand canon: derivation from evidence, and its versioned store."""
