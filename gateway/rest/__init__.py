"""The REST transport: the documented /api/v1/jobs contract, plus health probes."""
