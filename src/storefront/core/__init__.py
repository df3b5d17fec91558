"""Shared building blocks: database, errors, security, HTTP plumbing."""
