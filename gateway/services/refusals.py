"""Requests that carry no valid API key: one log line and one count each, never an audit record.

They are kept out of the capped audit stream on purpose: anyone who can reach the gateway can
send them, so if each were XADDed, about --audit-maxlen anonymous requests would push every
record of an authenticated action out of the trail. The log keeps them all; the counter says how
many, for the /metrics endpoint (rq_gateway_auth_refusals_total{reason}).
"""

from __future__ import annotations

import json
import threading

from prometheus_client import Counter

from gateway.services.audit import AuditRecord, log

MISSING_KEY = "Missing API key: send the header 'Authorization: Bearer <key>'"
INVALID_KEY = "Invalid API key"
# The `reason` label takes only these values (and "other"), so the counter's series are bounded.
REASONS = {MISSING_KEY: "missing_key", INVALID_KEY: "invalid_key"}

AUTH_REFUSALS = Counter(
    "rq_gateway_auth_refusals",
    "Requests refused with 401: no API key, or one that matches no configured key.",
    ["reason"],
)
for _reason in (*REASONS.values(), "other"):  # exported at 0 before the first refusal
    AUTH_REFUSALS.labels(reason=_reason)


class RefusalOnce:
    """Per request: the first refused operation is logged and counted, the others not (a GraphQL
    request refuses each field it asks for, concurrently). A lock acquired without blocking and
    never released is a thread-safe "first time only"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def first(self) -> bool:
        return self._lock.acquire(blocking=False)


def refuse_unauthenticated(record: AuditRecord, refusal: str) -> None:
    """Log the refused operation (the audit log line, plus its reason) and count it."""
    reason = REASONS.get(refusal, "other")
    record.outcome, record.error = "refused", "Unauthenticated"
    log.info(json.dumps({**record.as_dict(), "reason": reason}, separators=(",", ":")))
    AUTH_REFUSALS.labels(reason=reason).inc()
