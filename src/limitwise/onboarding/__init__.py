"""Onboarding: applications, identity checks, eligibility, consent and the PII vault."""
