"""A failure's cause line: the raised exception's line (see tracebacks.py) with its values
normalized, so failures differing only in values fall together in one failure group.

For an exception group the line is the group's message without its sub-exception count, plus
the types of its leaf exceptions, distinct and sorted:
`ExceptionGroup: unhandled errors in a TaskGroup [KeyError, ValueError]`. A TaskGroup failing on
one ValueError or on three is then one cause, and one failing on a KeyError another.
"""

from __future__ import annotations

import re

from gateway.services.domain.tracebacks import Raised, read_raised

# Order matters: quoted values before what they contain; timestamps, UUIDs, hex and dotted
# numbers (IP addresses, versions) before plain numbers, which would otherwise take them apart
# and leave pieces such as the `T12` of `2024-01-01T12:00:00` or the `.0.5` of `10.0.0.5` behind.
_NORMALIZERS = (
    (re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""), "<str>"),
    (
        re.compile(
            r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?)?(?:Z|[+-]\d\d:?\d\d)?(?![\w.])"
        ),
        "<datetime>",
    ),
    (
        re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
        "<uuid>",
    ),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w.])"), "<num>"),
    (re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"), "<num>"),
)
_DIGIT = re.compile(r"\d")
# What ExceptionGroup.__str__ appends to the message (on its last line, so only a one-line
# message's first line carries it).
_GROUP_COUNT = re.compile(r" \(\d+ sub-exceptions?\)$")


def normalize_line(line: str | None) -> str | None:
    """The line with numbers, hex, UUIDs, timestamps and quoted values replaced by placeholders,
    so `ValueError: boom 1` and `ValueError: boom 2` normalize to the same text."""
    if line is None:
        return None
    quotes, values = _NORMALIZERS[0], _NORMALIZERS[1:]
    if "'" in line or '"' in line:
        line = quotes[0].sub(quotes[1], line)
    # Every other placeholder stands for text with a digit: most lines need no more passes.
    if _DIGIT.search(line):
        for pattern, placeholder in values:
            line = pattern.sub(placeholder, line)
    return line


def cause_message(raised: Raised | None) -> str | None:
    """The normalized line a failure group is keyed and labelled by (see the module docstring)."""
    if raised is None:
        return None
    if not raised.is_group:
        return normalize_line(raised.line)
    line = normalize_line(_GROUP_COUNT.sub("", raised.line))
    return f"{line} [{', '.join(raised.sub_types)}]" if raised.sub_types else line


def normalized_exception_line(exc_info: str | None) -> str | None:
    """cause_message of a stored traceback."""
    return cause_message(read_raised(exc_info))
