"""Storefront: an async storefront API."""

__version__ = "0.1.0"
