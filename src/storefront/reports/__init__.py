"""Streaming CSV reports."""
