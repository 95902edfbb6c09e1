"""The one rule for damaged data: it is reported where it is and never breaks an answer.

Redis holds whatever anyone wrote, so every reader applies the same two rules:

- A key of the wrong Redis type reads as absent. A job key that is not a hash is an orphan in the
  failed registry (as a deleted job is); a registry, queue or set of another type is empty. Lua
  scripts follow the same rule with the prelude's `of_type` (see lua/prelude.lua).
- Bytes that are not UTF-8 are shown with backslash escapes (`caf\\xe9`), so a name or field
  still shows where it is, distinguishable from a real one. Such a name is never written back:
  scripts.REQUEUE refuses a job whose id or origin is not UTF-8 (RQ cannot load it either).

Names read from Redis are kept as `surrogateescape` text internally where a key must be built
from them again (queue names from `rq:queues`): `key_bytes` turns such a key back into exactly
the bytes Redis holds, and `shown` gives the escaped form a transport may print.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.client import Pipeline
from redis.exceptions import ResponseError

log = logging.getLogger(__name__)


def shown(raw: bytes) -> str:
    """Bytes as text for an answer: UTF-8, with anything else as backslash escapes."""
    return raw.decode("utf-8", "backslashreplace")


def shown_or_none(raw: bytes | None) -> str | None:
    return shown(raw) if raw else None


def internal(raw: bytes) -> str:
    """A name as text that key_bytes turns back into the same bytes."""
    return raw.decode("utf-8", "surrogateescape")


def key_bytes(key: str) -> bytes:
    """The exact key bytes of a key built from internal() names."""
    return key.encode("utf-8", "surrogateescape")


def decodes(name: str) -> bool:
    """Whether an internal() name was UTF-8 in Redis."""
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def shown_name(name: str) -> str:
    """An internal() name as an answer shows it."""
    return shown(key_bytes(name))


# How redis-py prefixes an error a pipeline's command raised ("Command # 7 (XADD ...) of ...").
_IN_PIPELINE = " of pipeline caused error: "


def is_wrong_type(reply: Any) -> bool:
    """Whether a reply or a raised error is Redis's WRONGTYPE, also as a pipeline annotates it."""
    return isinstance(reply, ResponseError) and str(reply).split(_IN_PIPELINE, 1)[-1].startswith("WRONGTYPE")


def readable(reply: Any) -> Any:
    """A pipeline reply, None when its key holds the wrong type; any other error is raised."""
    if is_wrong_type(reply):
        log.warning("a key of the wrong Redis type was read as absent: %s", reply)
        return None
    if isinstance(reply, Exception):
        raise reply
    return reply


def execute(pipe: Pipeline) -> list[Any]:
    """Run a read pipeline: a key of the wrong type gives None in its place, not an error."""
    return [readable(reply) for reply in pipe.execute(raise_on_error=False)]
