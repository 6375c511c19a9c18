"""The audit chain: an append-only, hash-chained log of every state change made through the
API and every staff read of personal data, and the check that proves it untouched."""
