"""Admin analytics."""
