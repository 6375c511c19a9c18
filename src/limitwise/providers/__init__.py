"""Data providers behind every decision: real-name, bureau, income, vehicle, macro.

Each kind has one typed provider that checks the consent, asks a record source (a local
CSV/JSON file or an HTTP service), validates the record and judges its quality. Failures
(timeouts, malformed or stale records) become a quality verdict with a named reason.
"""
