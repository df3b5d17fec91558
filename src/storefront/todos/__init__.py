"""Per-user todos."""
