"""Jobs with varied args, kwargs and meta for the search tests, enqueued by a producer process
that can import this module and payment_jobs (the gateway under test cannot: a `Card` is an
object it cannot decode, in args and in meta)."""

from __future__ import annotations

import json
import sys

from payment_jobs import CARD, Card, tokenize


def charge(card, customer: int = 0) -> None:
    raise RuntimeError("card declined")


def produce(redis_url: str) -> None:
    """Enqueue the jobs; print their ids by role, as JSON. shop-eu is then run by a worker."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(redis_url)
    eu, us = Queue("shop-eu", connection=connection), Queue("shop-us", connection=connection)
    ids = {
        "card_object": eu.enqueue(charge, Card(CARD), customer=4711).id,
        "card_text": eu.enqueue(charge, CARD, customer=4711, meta={"tenant": "acme", "tier": 2}).id,
        "tokenized": eu.enqueue(tokenize, "cust-4711").id,
        "odd_meta": us.enqueue(charge, "x", customer=42, meta={"tenant": Card("1"), "tier": 2}).id,
        "refund": us.enqueue(tokenize, "r-1", description="refund for ACME Corp").id,
    }
    json.dump(ids, sys.stdout)
