"""Demo mode: an embedded in-memory Redis seeded with real jobs, for `rq-gateway serve` with no Redis."""
