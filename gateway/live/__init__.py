"""Live streams for GraphQL subscriptions: one shared poller per distinct stream (poller.py),
registered and bounded by the process's hub (hub.py). Transports import this face only."""

from gateway.live.hub import MIN_INTERVAL_MS, LiveConnection, LiveHub, interval_seconds
from gateway.live.poller import Update

__all__ = ["MIN_INTERVAL_MS", "LiveConnection", "LiveHub", "Update", "interval_seconds"]
