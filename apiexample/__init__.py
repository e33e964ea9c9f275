"""Django API protected by Auth0 access tokens (RFC 6750 bearer tokens, RFC 9068 JWT profile)."""
