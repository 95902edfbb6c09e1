"""JSON the gateway did not write itself, read safely: Redis data that anything may have written
(an audit record, a CronScheduler's cron jobs, a job's dependency ids, an operation's state) and
text a client sent (a search cursor, a search term's value).

`json.loads` refuses malformed text with ValueError, but text nested deeper than the parser's
recursion limit (a thousand `[`) with RecursionError, which no `except ValueError` catches: a
500 where the reader meant "unreadable". `loads` raises ValueError for both."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes | bytearray) -> Any:
    """The JSON value of `text`; ValueError when it is not JSON, not UTF-8, or nested too deeply."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
