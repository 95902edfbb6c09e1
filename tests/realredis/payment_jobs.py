"""Jobs that carry a card number, for the --hide-payloads tests. Importable by the real `rq worker`
and by the producer subprocess (this directory is on their PYTHONPATH), but not by the gateway
under test: a `Card` argument is one the gateway cannot decode."""

from __future__ import annotations

import json
import sys

CARD = "4111-1111-1111-1111"
PASSWORD = "hunter2"


class Card:
    def __init__(self, number: str):
        self.number = number

    def __repr__(self) -> str:  # so RQ's default description quotes it, as real code often does
        return f"Card({self.number!r})"


def charge(card, password: str = "") -> None:
    # The message does not quote the card: exception text stays visible under --hide-payloads.
    raise RuntimeError("card declined")


def tokenize(card: str) -> dict:
    return {"token": card}


def produce(redis_url: str) -> None:
    """Enqueue the jobs the test inspects; print their ids by role, as JSON."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(redis_url)
    billing, later = Queue("billing", connection=connection), Queue("billing-later", connection=connection)
    ids = {
        "plain": billing.enqueue(charge, CARD, password=PASSWORD).id,
        "undecodable": billing.enqueue(charge, Card(CARD), password=PASSWORD).id,
        "finished": billing.enqueue(tokenize, CARD).id,
        "queued": later.enqueue(charge, CARD, password=PASSWORD, meta={"card": CARD}).id,
        "custom": later.enqueue(charge, Card(CARD), description=f"charge card {CARD}").id,
    }
    json.dump(ids, sys.stdout)
