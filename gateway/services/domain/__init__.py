"""Domain rules: no Redis, no rq. Imports nothing of the gateway but gateway.errors."""
