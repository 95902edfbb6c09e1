"""What a failure says about itself: the exception type and message, read from the traceback's
last line, and that line normalized so failures differing only in values fall together."""

from __future__ import annotations

import re

# `module.Error: message`, `Error: message` or a bare `Error` on the last non-empty line.
_EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<message>.*))?$", re.DOTALL)

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


def last_line(exc_info: str | None) -> str | None:
    """The traceback's last non-empty line, stripped: Python puts `Type: message` there."""
    if not exc_info:
        return None
    text = exc_info.rstrip()
    # Only the tail is split: a traceback can be many kilobytes, and groups read thousands.
    line = text[text.rfind("\n") + 1 :]
    if not line.isprintable():  # other line breaks (\r, \x0b, \u2028...), or tabs
        line = line.splitlines()[-1]
    return line.strip() or None


def exception_type_of_line(line: str | None) -> str | None:
    """exception_type for a last line already read."""
    if line is None:
        return None
    match = _EXCEPTION_LINE.match(line)
    return match.group("type") if match else None


def normalize_line(line: str | None) -> str | None:
    """normalized_last_line for a last line already read."""
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


def exception_type(exc_info: str | None) -> str | None:
    """The exception class as the traceback names it (`ValueError`, `requests.HTTPError`)."""
    return exception_type_of_line(last_line(exc_info))


def normalized_last_line(exc_info: str | None) -> str | None:
    """The last line with numbers, hex, UUIDs, timestamps and quoted values replaced by
    placeholders, so `ValueError: boom 1` and `ValueError: boom 2` normalize to the same text."""
    return normalize_line(last_line(exc_info))
