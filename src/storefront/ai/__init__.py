"""AI product content: a chain of model providers, resilient, ending in an offline generator."""
