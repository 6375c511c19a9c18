"""Double-entry ledger: accounts, append-only journal entries, two-phase holds, idempotency."""
