"""Read-only views of RQ registries: live entries only, in registry order, without cleanup writes."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from redis import Redis
from redis.typing import EncodableT

from gateway.errors import InvalidParameter
from gateway.services.domain.validation import MAX_NAME_LENGTH, REGISTRY_MEMBER_PATTERN, is_score
from gateway.services.redis import damaged, keys, scripts

# A damaged member a cursor may carry: room for any id with its execution id, and then some.
MAX_MEMBER_BYTES = 4 * MAX_NAME_LENGTH


def now_timestamp() -> int:
    """Whole seconds, as RQ scores registry entries."""
    return int(time.time())


@dataclass(frozen=True)
class Entry:
    """One registry member. `member` is what Redis holds, given back to scripts as is: text, or
    bytes when it is not UTF-8 (damaged data). `job_id` is the id every view shows (job_id_of)."""

    member: str | bytes
    score: str
    job_id: str

    @property
    def raw(self) -> bytes:
        return self.member if isinstance(self.member, bytes) else self.member.encode()

    @property
    def job_ref(self) -> str | bytes:
        """What addresses the entry's job: its member, or in the started registry its job id."""
        return self.member if damaged.shown(self.raw) == self.job_id else self.job_id

    @property
    def cursor(self) -> str:
        return encode_cursor(self.score, self.raw)

    @property
    def position(self) -> tuple[float, bytes]:
        """(score, member bytes): Redis's own order, to compare entries with a walk's bound."""
        return float(self.score), self.raw


# RQ >= 2 writes "job_id:execution_id" members in the started registry only (StartedJobRegistry
# overrides parse_job_id; every other registry keeps BaseRegistry's whole member). A member of
# any other registry is a whole id, even with a ':' in it (ids written by RQ < 2 or by hand).
_STARTED_PREFIX, _, _STARTED_SUFFIX = keys.registry_key("started", "\x00").partition("\x00")


def holds_executions(registry_key: str) -> bool:
    return registry_key.startswith(_STARTED_PREFIX) and registry_key.endswith(_STARTED_SUFFIX)


def job_id_of(member: bytes, executions: bool) -> str:
    """The id every view shows for a registry member: the member itself, shown by the damaged-data
    rule; in the started registry, what precedes the last ':' (execution ids hold none)."""
    text = damaged.shown(member)
    if executions and ":" in text:
        return text.rpartition(":")[0]
    return text


def entries_of(flat: list[bytes], registry_key: str) -> list[Entry]:
    """Entries from a script's flat {member, score, ...} reply."""
    executions = holds_executions(registry_key)
    return [
        Entry(member_ref(flat[i]), flat[i + 1].decode(), job_id_of(flat[i], executions))
        for i in range(0, len(flat), 2)
    ]


def member_ref(raw: bytes) -> str | bytes:
    """A member as scripts and fetch_jobs take it: text, or bytes when it is not UTF-8."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw


def encode_cursor(score: str, member: bytes | str) -> str:
    raw = member.encode() if isinstance(member, str) else member
    return pack_cursor(score, raw)


def pack_cursor(head: str, member: bytes) -> str:
    """An opaque cursor: `head` (a score, or a queue cursor's mark) and a member, base64."""
    return base64.urlsafe_b64encode(head.encode() + b"|" + encode_member(member)).decode().rstrip("=")


def unpack_cursor(cursor: str) -> tuple[bytes, bytes]:
    """(head, member) of a pack_cursor cursor; InvalidParameter when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        head, encoded = raw.split(b"|", 1)
    except (ValueError, binascii.Error):
        raise invalid_cursor(cursor) from None
    member = decode_member(encoded)
    if member is None:
        raise invalid_cursor(cursor)
    return head, member


def invalid_cursor(cursor: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid cursor {cursor[:80]!r}: pass an endCursor or cursor unchanged")


# A member outside RQ's id pattern (damaged data: not UTF-8, several ':', other characters) is
# carried hex-encoded behind this mark, so a cursor can still resume after it while a member
# given as plain text must match the pattern (hostile text is refused before reaching Redis).
_HEX_MARK = b"~"


def encode_member(raw: bytes) -> bytes:
    text_ok = _pattern_member(raw)
    return raw if text_ok else _HEX_MARK + binascii.hexlify(raw)


def decode_member(raw: bytes) -> bytes | None:
    """The member a cursor carries, or None when it is not one encode_member produces."""
    if raw.startswith(_HEX_MARK):
        try:
            member = binascii.unhexlify(raw[len(_HEX_MARK) :])
        except (ValueError, binascii.Error):
            return None
        return member if 0 < len(member) <= MAX_MEMBER_BYTES and not _pattern_member(member) else None
    return raw if _pattern_member(raw) else None


def _pattern_member(raw: bytes) -> bool:
    try:
        return REGISTRY_MEMBER_PATTERN.fullmatch(raw.decode("ascii")) is not None
    except UnicodeDecodeError:
        return False


def decode_cursor(cursor: str) -> tuple[str, bytes]:
    """(score, member) of an opaque cursor; InvalidParameter when it is not one of ours."""
    head, member = unpack_cursor(cursor)
    try:
        score = head.decode("ascii")
    except UnicodeDecodeError:
        raise invalid_cursor(cursor) from None
    if not is_score(score):
        raise invalid_cursor(cursor)
    return score, member


class RegistryReader:
    """Live entries of one sorted-set registry: scores below 0 or after now. The key may be built
    from a queue name that is not UTF-8 (damaged.internal): it is sent as its exact bytes."""

    def __init__(self, connection: Redis):
        self._slice = connection.register_script(scripts.LIVE_SLICE)
        self._after = connection.register_script(scripts.LIVE_AFTER)
        self._last = connection.register_script(scripts.LIVE_LAST)
        self._before = connection.register_script(scripts.LIVE_BEFORE)

    def last(self, key: str) -> tuple[int, Entry | None]:
        """(live total, the last live entry or None), read atomically."""
        total, flat = self._last(keys=[damaged.key_bytes(key)], args=[now_timestamp()])
        entries = entries_of(flat, key)
        return int(total), entries[0] if entries else None

    def slice(self, key: str, offset: int = 0, limit: int | None = None) -> tuple[int, list[Entry]]:
        """(live total, entries) from position `offset`; limit None means all of them."""
        total, flat = self._slice(
            keys=[damaged.key_bytes(key)], args=[now_timestamp(), offset, -1 if limit is None else limit]
        )
        return int(total), entries_of(flat, key)

    def after(
        self, key: str, cursor: tuple[str, bytes] | None, limit: int, expiring: bool = True
    ) -> tuple[int, list[Entry]]:
        """(live total, up to `limit` entries) strictly after the (score, id) cursor. A registry
        that is not `expiring` (scored by time, not expiry) counts every entry as live."""
        args: list[EncodableT] = [_now(expiring), limit]
        if cursor is not None:
            args.extend(cursor)
        total, flat = self._after(keys=[damaged.key_bytes(key)], args=args)
        return int(total), entries_of(flat, key)

    def before(
        self, key: str, cursor: tuple[str, bytes] | None, limit: int, expiring: bool = True
    ) -> tuple[int, list[Entry]]:
        """(live total, up to `limit` entries) strictly before the cursor, newest first."""
        args: list[EncodableT] = [_now(expiring), limit]
        if cursor is not None:
            args.extend(cursor)
        total, flat = self._before(keys=[damaged.key_bytes(key)], args=args)
        return int(total), entries_of(flat, key)


def _now(expiring: bool) -> int:
    # -1 puts no score in the expired band [0, now]: every entry counts as live.
    return now_timestamp() if expiring else -1


def walk_registry(reader: RegistryReader, key: str, chunk: int) -> Iterator[tuple[int, list[Entry]]]:
    """(live total at the start, entries) in registry order, `chunk` entries read at a time, up
    to the last entry present when the walk began: jobs failing meanwhile land after it, so the
    walk ends. Each member comes once (once_each)."""
    total, last = reader.last(key)
    if last is None:
        return
    for fresh in once_each(_bounded(reader, key, last.position, chunk)):
        yield total, fresh


def _bounded(
    reader: RegistryReader, key: str, bound: tuple[float, bytes], chunk: int
) -> Iterator[list[Entry]]:
    cursor = None
    while True:
        _, entries = reader.after(key, cursor, chunk)
        in_bound = up_to(entries, bound)
        if not in_bound:
            return
        cursor = (in_bound[-1].score, in_bound[-1].raw)
        yield in_bound


def up_to(entries: list[Entry], bound: tuple[float, bytes]) -> list[Entry]:
    """The entries at or before `bound` (a position). In registry order: all of them when the
    last is (the common case, one comparison)."""
    if entries and entries[-1].position <= bound:
        return entries
    return [e for e in entries if e.position <= bound]


def once_each(chunks: Iterable[list[Entry]]) -> Iterator[list[Entry]]:
    """The chunks without any member seen in an earlier one, empty ones dropped. A job acted on
    and failing again meanwhile re-enters the registry with a new score, possibly still inside a
    walk's bound: it is not acted on (or counted) twice."""
    seen: set[str | bytes] = set()
    for entries in chunks:
        fresh = unseen(entries, seen)
        if fresh:
            yield fresh


def unseen(entries: list[Entry], seen: set[str | bytes]) -> list[Entry]:
    """The entries whose member is not in `seen` (once_each's rule), now added to it."""
    fresh = [e for e in entries if e.member not in seen]
    seen.update(e.member for e in fresh)
    return fresh
