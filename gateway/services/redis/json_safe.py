"""What JSON can hold of a decoded value (a job's args, kwargs, result, meta): `to_json` keeps
what it can, and writes the rest as text, so one odd value never fails an answer: an object as its
repr, a NaN as "nan", a lone surrogate in a str as its backslash escape (as damaged.shown writes
bytes that are not UTF-8), an int too long to write as a note of its size, a container nested too
deep as its repr. `plain_payload` says when a payload cannot hold the last three, so that to_json
may copy a flat list or dict of plain values in one pass (search decodes every job it examines)."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from typing import Any, cast

from rq.serializers import DefaultSerializer

MAX_DEPTH = 64


def writable(text: str) -> str:
    """`text` as UTF-8 can carry it: a lone surrogate, which a str can hold and no answer can,
    becomes its backslash escape, as damaged.shown writes bytes that are not UTF-8."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode()
    return text


def _long_int(value: int) -> str:
    return f"<int of about {int(value.bit_length() * 0.30103) + 1} digits>"


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


# Types to_json returns unchanged (exact types: a subclass may render otherwise). Floats are not
# among them: a NaN or an infinity becomes its repr.
_PLAIN = frozenset({str, int, bool, type(None)})
_TEXT = frozenset({str})
# Python writes no int of more decimal digits than this as text (sys.set_int_max_str_digits), so
# no JSON answer could hold it: a job's argument 10**5000 failed the whole page it was on.
_DIGITS = sys.get_int_max_str_digits() or math.inf
_MAX_INT_BITS = _DIGITS * 3.3 - 8  # log2(10) < 3.33: fewer bits always means fewer digits
# What a payload must not exceed, or hold, for to_json's fast path, which looks at neither ints
# nor strings: pickle writes an int's bits (so a shorter payload spells no int too long to
# write), and a lone surrogate (a str pickle and JSON can hold and UTF-8 cannot) as the bytes
# ED A0-BF (protocols 1+) or as a \udXXX escape (protocol 0).
PLAIN_PAYLOAD = int(min(_MAX_INT_BITS, 2**40)) // 8
_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]|\\u[dD][89a-fA-F]")


def plain_payload(payload: bytes, serializer: Any) -> bool:
    """Whether what `payload` decodes to may take to_json's fast path (`plain`)."""
    return serializer is DefaultSerializer and len(payload) < PLAIN_PAYLOAD and not _SURROGATE.search(payload)


def to_json(value: Any, _depth: int = 0, plain: bool = False) -> Any:
    """Convert a Python value to JSON-compatible data; what JSON cannot hold becomes its repr (an
    int too long to write, a note of its size; a lone surrogate in a str, its backslash escape),
    and so does a container nested too deep (self-referencing ones included). `plain`: the value
    was decoded from a payload plain_payload accepts, so it holds neither."""
    # The common call's args and kwargs: flat, of plain values. One C-level pass over their types
    # instead of a call per item; the result is what the general rule below gives them.
    if plain and _depth < MAX_DEPTH and type(value) in (list, tuple):
        items = cast("list[Any] | tuple[Any, ...]", value)
        if _PLAIN.issuperset(map(type, items)):
            return list(items)
    elif plain and _depth < MAX_DEPTH and type(value) is dict:
        mapping = cast("dict[Any, Any]", value)
        if _TEXT.issuperset(map(type, mapping)) and _PLAIN.issuperset(map(type, mapping.values())):
            return dict(mapping)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value if plain else writable(value)
    if isinstance(value, int):
        return value if plain or value.bit_length() <= _MAX_INT_BITS else _long_int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if _depth >= MAX_DEPTH and isinstance(value, (list, tuple, dict)):
        return _safe_repr(value)
    if isinstance(value, (list, tuple)):
        items = cast("Iterable[Any]", value)  # a list or tuple of anything
        return [to_json(item, _depth + 1, plain) for item in items]
    if isinstance(value, dict):
        mapping = cast("dict[Any, Any]", value)  # a dict of anything
        return {
            (writable(key) if isinstance(key, str) else _safe_repr(key)): to_json(item, _depth + 1, plain)
            for key, item in mapping.items()
        }
    return _safe_repr(value)
