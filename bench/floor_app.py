"""The stats floor: a bare FastAPI app whose one `def` endpoint runs the same single Redis pipeline
as gateway/services/reads/stats.py (LLEN of the queue, then ZCARD + ZCOUNT 0..now of six registries) and
returns the counts as a plain dict. No validation, no response model, no error mapping.

Run it exactly as the gateway runs (one uvicorn worker, default loop and HTTP implementation):

    BENCH_REDIS_URL=redis://127.0.0.1:6379/0 python -m uvicorn bench.floor_app:app --port 8001
"""

from __future__ import annotations

import os
import time

import redis
from fastapi import FastAPI
from rq.queue import Queue
from rq.registry import (
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

QUEUE = os.environ.get("BENCH_QUEUE", "default")
_REGISTRIES = {
    "failed": FailedJobRegistry,
    "started": StartedJobRegistry,
    "finished": FinishedJobRegistry,
    "deferred": DeferredJobRegistry,
    "scheduled": ScheduledJobRegistry,
    "canceled": CanceledJobRegistry,
}
_QUEUE_KEY = Queue.redis_queue_namespace_prefix + QUEUE
_KEYS = [(state, cls.key_template.format(QUEUE)) for state, cls in _REGISTRIES.items()]
_BY_TIME = {"scheduled", "deferred", "canceled"}

connection = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
app = FastAPI()


@app.get("/stats")
def stats() -> dict:
    now = int(time.time())
    with connection.pipeline(transaction=False) as pipe:
        pipe.llen(_QUEUE_KEY)
        for _, key in _KEYS:
            pipe.zcard(key)
            pipe.zcount(key, 0, now)
        replies = pipe.execute()
    out = {"queue_name": QUEUE, "queued_count": replies[0]}
    for index, (state, _) in enumerate(_KEYS):
        card, expired = replies[1 + 2 * index], replies[2 + 2 * index]
        out[f"{state}_count"] = card if state in _BY_TIME else card - expired
    return out


@app.get("/ping")
def ping() -> dict:
    return {"pong": bool(connection.ping())}
