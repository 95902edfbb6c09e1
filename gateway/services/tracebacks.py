"""What a failure says about itself: the exception type and message, read from the line of the
traceback that names the exception, and that line normalized so failures differing only in
values fall together.

That line is the traceback's last line, unless the message spans several lines or notes follow
it (`add_note`): then it is the first unindented line after the last frame."""

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


_LAST_FRAME = '\n  File "'


def exception_line(exc_info: str | None) -> str | None:
    """The `Type: message` line of a traceback, stripped (see the module docstring)."""
    if not exc_info:
        return None
    text = exc_info.rstrip()
    # Only the tail is split: a traceback can be many kilobytes, and groups read thousands.
    frame = text.rfind(_LAST_FRAME)
    if frame != -1:
        # After the frame line come its indented source and caret lines, then the exception.
        for line in text[frame + 1 :].splitlines()[1:]:
            if line and not line[0].isspace():
                return line.strip()
    return _last_line(text)


def _last_line(text: str) -> str | None:
    line = text[text.rfind("\n") + 1 :]
    if not line.isprintable():  # other line breaks (\r, \x0b, \u2028...), or tabs
        line = line.splitlines()[-1]
    return line.strip() or None


def exception_type_of_line(line: str | None) -> str | None:
    """exception_type for an exception line already read."""
    if line is None:
        return None
    match = _EXCEPTION_LINE.match(line)
    return match.group("type") if match else None


def normalize_line(line: str | None) -> str | None:
    """normalized_exception_line for an exception line already read."""
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
    return exception_type_of_line(exception_line(exc_info))


def normalized_exception_line(exc_info: str | None) -> str | None:
    """The exception line with numbers, hex, UUIDs, timestamps and quoted values replaced by
    placeholders, so `ValueError: boom 1` and `ValueError: boom 2` normalize to the same text."""
    return normalize_line(exception_line(exc_info))
