"""rq-gateway: a REST and GraphQL gateway over RQ (Redis Queue)."""

__version__ = "0.1.0"
