"""`./dev fuzz`: the API fuzzed against its own OpenAPI schema (schemathesis)."""
