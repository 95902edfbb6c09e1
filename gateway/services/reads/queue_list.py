"""Pages of a queue's list of waiting jobs, by a cursor that finds its place again after the jobs
around it left. Reads only.

A list has no stable position: RQ pushes at the tail (`at_front`: the head), workers pop the head
and the gateway's cancel and delete remove any id (LREM), so an index shifts and the last id
returned may be gone by the next page. A cursor therefore holds a window of the ids around the
page's end as they were when it was read: the last id returned, up to WIDTH ids returned just
before it and up to WIDTH ids that followed it (more of one side near an end of the list, so
2 * WIDTH + 1 ids when the list had that many), and the last id's index as a hint. The next page
(queue_page.lua) starts right after the last id if it is still queued (checked at the hinted
index first, else found by value); else at the first follower still queued; else right after the
latest returned id still queued. Jobs never enter the middle of a list, so each of these is
exactly where the last page stopped. Only when every id of the window left does it guess: most
likely workers took them, and every job ahead of them, from the head, so `asc` goes on at the
head and `desc` ends. Hence a job that stays in the queue is met exactly once unless more than
2 * WIDTH ids were removed out of the middle between two pages, which can repeat jobs (`asc`) or
end early (`desc`). An old single-id cursor (`q|id`) still reads, as a window of one id.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from redis import Redis
from redis.typing import EncodableT

from gateway.services.domain.lazy_cursors import LazyCursors
from gateway.services.redis import damaged, keys, scripts
from gateway.services.redis.registry import decode_member, encode_member, invalid_cursor, unpack_cursor

# Ids a cursor keeps on each side of the last one returned: a cursor is at most 2 * WIDTH + 1 ids.
WIDTH = 2
_MAX_IDS = 2 * WIDTH + 1
_MARK = b"w"  # a window cursor
_OLD_MARK = b"q"  # the single last id of earlier releases
_MAX_HINT_DIGITS = 12


@dataclass(frozen=True)
class Window:
    """A queue cursor: `ids` in scan order, of which the first `seen` were returned (ids[seen - 1]
    the last); `hint` the last one's index when it was read, or -1."""

    hint: int
    seen: int
    ids: tuple[bytes, ...]

    def encode(self) -> str:
        parts = [_MARK, str(self.hint).encode(), str(self.seen).encode(), *map(encode_member, self.ids)]
        return base64.urlsafe_b64encode(b"|".join(parts)).decode().rstrip("=")


def decode_window(cursor: str) -> Window:
    """The Window a queue cursor holds; InvalidParameter when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, binascii.Error):
        raise invalid_cursor(cursor) from None
    if raw.startswith(_OLD_MARK + b"|"):
        return Window(-1, 1, (unpack_cursor(cursor)[1],))
    parts = raw.split(b"|")
    if len(parts) < 4 or len(parts) > 3 + _MAX_IDS or parts[0] != _MARK:
        raise invalid_cursor(cursor)
    _, hint, seen, *encoded = parts
    ids = tuple(decode_member(member) for member in encoded)
    numbers = (hint.removeprefix(b"-"), seen)
    if not all(n.isdigit() and len(n) <= _MAX_HINT_DIGITS for n in numbers) or None in ids:
        raise invalid_cursor(cursor)
    window = Window(int(hint), int(seen), tuple(member for member in ids if member is not None))
    if window.hint < -1 or not 1 <= window.seen <= len(window.ids):
        raise invalid_cursor(cursor)
    return window


@dataclass(frozen=True)
class QueuePage:
    """Up to `first` ids of a queue from a cursor, the cursor after each, whether more follow, and
    the index the page starts at (asc: the length, desc: -1 when nothing is left)."""

    total: int
    members: list[bytes]
    cursors: Sequence[str]
    more: bool
    start: int


def cursor_after(member: bytes, index: int) -> str:
    """The cursor right after one id known alone, at `index`."""
    return Window(index, 1, (member,)).encode()


def cursor_at(connection: Redis, queue: str, member: bytes, index: int) -> str:
    """The cursor right after the id at `index` (an id: lookup's hit) as a page ending there gives
    it: with the ids around it, so that it finds its place again once that job left the queue.
    The id alone when the list moved since `index` was read."""
    lo = max(index - 2 * WIDTH, 0)
    with connection.pipeline(transaction=False) as pipe:
        pipe.lrange(damaged.key_bytes(keys.queue_key(queue)), lo, index + 2 * WIDTH)
        (around,) = damaged.execute(pipe)
    around = list(around or [])
    if not 0 <= index - lo < len(around) or around[index - lo] != member:
        return cursor_after(member, index)
    return _window_cursor(around, list(range(lo, lo + len(around))), index - lo)


class QueueLists:
    """Pages of any queue's list, one script call each (queue_page.lua): the page, and 2 * WIDTH
    ids beyond each of its ends for the cursors' windows."""

    def __init__(self, connection: Redis) -> None:
        self._script = connection.register_script(scripts.QUEUE_PAGE)

    def page(self, queue: str, first: int, after: str | None, order: str) -> QueuePage:
        args: list[EncodableT] = [first, order, 2 * WIDTH]
        if after:
            window = decode_window(after)
            args += [window.hint, window.seen, *window.ids]
        length, lo, start, around = self._script(keys=[damaged.key_bytes(keys.queue_key(queue))], args=args)
        return _page(int(length), int(lo), int(start), list(around), first, order == "asc")


def _page(length: int, lo: int, start: int, around: list[bytes], first: int, asc: bool) -> QueuePage:
    # `around` in scan order, with each id's index in the list.
    indexes = list(range(lo, lo + len(around)))
    if not asc:
        around, indexes = around[::-1], indexes[::-1]
    begin = indexes.index(start) if start in indexes else len(around)
    page = list(range(begin, min(begin + first, len(around))))
    more = 0 <= (start + first if asc else start - first) < length
    cursors = LazyCursors(page, partial(_window_cursor, around, indexes))
    return QueuePage(length, [around[i] for i in page], cursors, more, start)


def _window_cursor(around: list[bytes], indexes: list[int], at: int) -> str:
    """The cursor after `around[at]`: WIDTH ids each side; near an end of the list, the other side
    makes up the window's size."""
    after = min(WIDTH, len(around) - 1 - at)
    before = min(at, _MAX_IDS - 1 - after)
    after = min(len(around) - 1 - at, _MAX_IDS - 1 - before)
    return Window(indexes[at], before + 1, tuple(around[at - before : at + after + 1])).encode()
