"""Users, authentication, tokens and roles."""
