"""What a job's newest results-stream entry says: its traceback and its return value, decoded as
RQ's Result.restore does (without building a Result per job, which costs more than the decoding).

One rule for every reader: a job's page and lists (decode.decode_job), search (decode_fields over
lua/job_fields.lua) and failure groups and the failed filters (failure_facts over
lua/cause_fields.lua) read the same traceback, so a search or a filter matches what the page
shows. Each part decodes on its own: a return value that does not unpickle, or a damaged type,
costs a failed job none of its traceback."""

from __future__ import annotations

import logging
import zlib
from base64 import b64decode
from typing import Any

from rq.results import Result

from gateway.services.redis import damaged

log = logging.getLogger(__name__)

_SUCCESSFUL = Result.Type.SUCCESSFUL.value


def failed_traceback(job_id: str | None, exc_string: bytes | None, legacy: bytes | None) -> str | None:
    """A failed job's traceback: its newest results entry's exc_string (RQ 2 and later), else the
    job hash's exc_info (RQ before 2, or an entry whose traceback does not decode)."""
    return _exc_text(job_id, exc_string) or legacy_exc_info(legacy)


def returned(job_id: str, payload: dict[bytes, bytes], serializer: Any) -> Any:
    """The return value the entry records for a success, None for anything else (or a value that
    does not decode)."""
    raw = payload.get(b"return_value")
    if raw is None or _result_type(job_id, payload.get(b"type")) != _SUCCESSFUL:
        return None
    try:
        return serializer.loads(b64decode(raw))
    except Exception:
        log.warning("job %s: latest result's return value could not be decoded", job_id)
        return None


def newest_payload(latest: Any) -> dict[bytes, bytes]:
    """The fields of a results stream's newest entry (an XREVRANGE COUNT 1 reply), {} if none."""
    return latest[0][1] if latest else {}


def legacy_exc_info(raw: bytes | None) -> str | None:
    if not raw:
        return None
    try:
        return damaged.shown(zlib.decompress(raw)) or None
    except zlib.error:
        return damaged.shown(raw) or None


def _result_type(job_id: str, raw: bytes | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        log.warning("job %s: latest result has no readable type", job_id)
        return None


def _exc_text(job_id: str | None, exc_string: bytes | None) -> str | None:
    if not exc_string:
        return None
    try:
        return damaged.shown(zlib.decompress(b64decode(exc_string))) or None
    except Exception:
        log.warning("job %s: latest result's traceback could not be decoded", job_id or "?")
        return None
