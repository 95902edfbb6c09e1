"""Where the history lives in Redis, and the fields of one minute of one queue.

- `rq-gateway:history:<minute>:<queue>`: a hash per queue per sampled minute, `<minute>` being
  Unix seconds // 60. It expires `retention` seconds after its minute ends. Its fields:
  `failed`, `finished` (jobs whose `ended_at` lies in the minute; present once the writer has
  counted the whole minute or the part of it that has passed), `queued` and `latency` (the
  largest queue length and head-job age sampled in the minute), `run_max` (the longest run) and
  `h:<index>` (run times as a DDSketch histogram, see timings.py).
- `rq-gateway:history:seen:<registry>:<queue>`: the ids of the failed or finished registry the
  writer has already looked at (a sorted set, scores 0, so it is walked by member; walk.py), so a
  tick reads the job hashes of new entries only. The gateway's own retries and deletes forget
  the ids they take out of the failed registry in the same script (redis/keys.py), so a job
  retried and failed again counts again even before the next tick, and the writer finds none of
  them gone.
- `rq-gateway:history:watermark`: `<seconds> <nonce> <origin>`: the time up to which the
  registries have been walked, a nonce every commit renews (so a tick's commits form a chain no
  other writer's commit can enter) and the start of the writers' unbroken run (writer.py).
- `rq-gateway:history:writer`: the lease naming the one process that writes (lease.py).

A minute without a hash was not sampled: it reads as null, never as zeros.
"""

from __future__ import annotations

from datetime import datetime, timezone

from gateway.services.domain.rqtime import RQ_TIME_FORMAT
from gateway.services.redis import damaged, keys

PREFIX = keys.HISTORY_PREFIX
WATERMARK_KEY = PREFIX + "watermark"
LEASE_KEY = PREFIX + "writer"

FAILED = "failed"
FINISHED = "finished"
QUEUED = "queued"
LATENCY = "latency"
RUN_MAX = "run_max"
SKETCH_PREFIX = "h:"


def minute_key(minute: int, queue_name: str) -> bytes:
    """The hash of one queue in one minute. The minute comes first, so any queue name (colons
    included, or bytes that are not UTF-8: damaged.internal text) keeps the key unambiguous."""
    return f"{PREFIX}{minute}:".encode() + damaged.key_bytes(queue_name)


def mirror_key(registry: str, queue_name: str) -> bytes:
    """The set of ids of a queue's failed or finished registry the writer has looked at."""
    return keys.history_seen_key(registry, queue_name)


def minute_of(seconds: float) -> int:
    return int(seconds // 60)


def parse_rq_time(text: bytes | str | None) -> float | None:
    if not text:
        return None
    try:
        raw = text.decode() if isinstance(text, bytes) else text
        return datetime.strptime(raw, RQ_TIME_FORMAT).replace(tzinfo=timezone.utc).timestamp()
    except (ValueError, UnicodeDecodeError):
        return None
