"""Read-only views of RQ registries: live entries only, in registry order, without cleanup writes."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

from redis import Redis

from gateway.errors import InvalidParameter
from gateway.services import scripts
from gateway.services.validation import REGISTRY_MEMBER_PATTERN, is_score


def now_timestamp() -> int:
    """Whole seconds, as RQ scores registry entries."""
    return int(time.time())


@dataclass(frozen=True)
class Entry:
    job_id: str
    score: str

    @property
    def cursor(self) -> str:
        return encode_cursor(self.score, self.job_id)


def encode_cursor(score: str, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{score}|{job_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """(score, job_id) of an opaque cursor; InvalidParameter when it is not one of ours."""
    invalid = InvalidParameter(f"Invalid cursor {cursor[:80]!r}: pass an endCursor or cursor unchanged")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        score, job_id = text.split("|", 1)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise invalid from None
    if not is_score(score) or not REGISTRY_MEMBER_PATTERN.fullmatch(job_id):
        raise invalid
    return score, job_id


def _entries(flat: list[bytes]) -> list[Entry]:
    return [Entry(flat[i].decode(), flat[i + 1].decode()) for i in range(0, len(flat), 2)]


class RegistryReader:
    """Live entries of one sorted-set registry: scores below 0 or after now."""

    def __init__(self, connection: Redis):
        self._slice = connection.register_script(scripts.LIVE_SLICE)
        self._after = connection.register_script(scripts.LIVE_AFTER)
        self._last = connection.register_script(scripts.LIVE_LAST)
        self._before = connection.register_script(scripts.LIVE_BEFORE)

    def last(self, key: str) -> tuple[int, Entry | None]:
        """(live total, the last live entry or None), read atomically."""
        total, flat = self._last(keys=[key], args=[now_timestamp()])
        entries = _entries(flat)
        return int(total), entries[0] if entries else None

    def slice(self, key: str, offset: int = 0, limit: int | None = None) -> tuple[int, list[Entry]]:
        """(live total, entries) from position `offset`; limit None means all of them."""
        total, flat = self._slice(keys=[key], args=[now_timestamp(), offset, -1 if limit is None else limit])
        return int(total), _entries(flat)

    def after(
        self, key: str, cursor: tuple[str, str] | None, limit: int, expiring: bool = True
    ) -> tuple[int, list[Entry]]:
        """(live total, up to `limit` entries) strictly after the (score, id) cursor. A registry
        that is not `expiring` (scored by time, not expiry) counts every entry as live."""
        args: list[object] = [_now(expiring), limit]
        if cursor is not None:
            args.extend(cursor)
        total, flat = self._after(keys=[key], args=args)
        return int(total), _entries(flat)

    def before(
        self, key: str, cursor: tuple[str, str] | None, limit: int, expiring: bool = True
    ) -> tuple[int, list[Entry]]:
        """(live total, up to `limit` entries) strictly before the cursor, newest first."""
        args: list[object] = [_now(expiring), limit]
        if cursor is not None:
            args.extend(cursor)
        total, flat = self._before(keys=[key], args=args)
        return int(total), _entries(flat)


def _now(expiring: bool) -> int:
    # -1 puts no score in the expired band [0, now]: every entry counts as live.
    return now_timestamp() if expiring else -1
