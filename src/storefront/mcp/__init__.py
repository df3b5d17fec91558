"""The Model Context Protocol server: the store as tools for AI agents.

Served at ``/mcp`` (streamable HTTP, stateless) and over stdio (``storefront mcp``).
Tools call the same services as the HTTP routes, each in its own unit of work,
with the caller's permissions (docs/mcp.md).
"""
