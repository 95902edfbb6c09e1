"""A search's cursor: the position (queue, state, that source's own cursor) after the last entry
examined, as an opaque URL-safe string, and the order of the sources it steps through."""

from __future__ import annotations

import base64
import binascii
import json

from gateway.errors import InvalidParameter
from gateway.services.domain import json_text
from gateway.services.reads.browse import STATES
from gateway.services.reads.queue_list import decode_window
from gateway.services.reads.search_limited import RATE_LIMITED, decode_limited_cursor
from gateway.services.redis.registry import decode_cursor

# The queue list first (see the module docstring), then the registries; RQ 3's rate-limited
# jobs, which span queues, are one source read once after every queue (search_limited.py).
SEARCH_STATES = ("queued", *(state for state in STATES if state != "queued"), RATE_LIMITED)


def encode_search_cursor(queue: str, state: str, inner: str | None) -> str:
    raw = json.dumps([queue, state, inner]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_search_cursor(cursor: str) -> tuple[str, str, str | None]:
    """(queue, state, inner) of a search cursor; InvalidParameter when it is not one of ours.
    The queue is only a position: the scope, never the cursor, decides which queues are read."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        queue, state, inner = json_text.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        raise _invalid(cursor) from None
    if not isinstance(queue, str) or state not in SEARCH_STATES or not isinstance(inner, (str, type(None))):
        raise _invalid(cursor)
    if inner:  # the source's own cursor, checked now whether or not this request reads that source
        try:
            if state == RATE_LIMITED:
                decode_limited_cursor(inner)
            else:
                decode_window(inner) if state == "queued" else decode_cursor(inner)
        except InvalidParameter:
            raise _invalid(cursor) from None
    return queue, state, inner


def check_cursor_fits(cursor: str, states: tuple[str, ...], named_queues: tuple[str, ...] | None) -> None:
    """A cursor continues the search that returned it: InvalidParameter when it stands in a
    state this search does not read, or, where the request names its queue (`named_queues`), in
    another queue. Its position would put it past every source of this search, or before them
    all, and the page would answer `complete` with nothing, or start over, as if it were right.
    Without a named queue any queue is a position (a queue may go from RQ's set between pages)."""
    queue, state, _ = decode_search_cursor(cursor)
    elsewhere = named_queues is not None and state != RATE_LIMITED and queue not in named_queues
    if state not in states or elsewhere:
        raise InvalidParameter(
            f"Cursor {cursor[:80]!r} continues a search of another queue or state: send it with the "
            "queue and state of the request that returned it, or start again without a cursor"
        )


def _invalid(cursor: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid cursor {cursor[:80]!r}: pass next_cursor or endCursor unchanged")
