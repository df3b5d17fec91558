"""The user dashboard: sections gathered concurrently."""
