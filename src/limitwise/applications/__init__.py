"""Applications over HTTP: submit (onboarding, then the line decision), status, decision."""
