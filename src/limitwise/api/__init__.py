"""The HTTP API: an app factory, error handling, and each domain's thin endpoints."""
