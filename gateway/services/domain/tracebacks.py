"""Which exception a stored traceback says was raised: its type and first message line.

RQ stores `traceback.format_exception` output. Python prints an exception as a chain of links,
innermost first, joined by a blank line, one of the two lines in SEPARATORS, and a blank line:

    Traceback (most recent call last):      absent when the exception was never raised
      File "path", line 12, in function     the frames: every line indented (source lines,
        source line                         ^^^^ markers, a SyntaxError's location too)
    module.Type: first message line         <- the exception line
    more message lines, then notes          any text at all (add_note text comes last)

An exception group is drawn in boxes: its own lines prefixed `  | ` (the header `  + `), then
its sub-exceptions in numbered boxes one level deeper, each again a chain.

The raised exception is the LAST link's, named by the first unindented line after that link's
frames. The catch: a message is arbitrary text. It may quote a whole traceback (a subprocess's
stderr, another job's failure), separators included, and quoted text can be byte for byte what a
real chain prints. So links are read from the start, and a separator line ends a link only if:

1. it stands alone between two blank lines, and a link header with a frame follows (or, in a
   group, a group header): a separator-like line anywhere else is message text. Only the first
   link may lack frames (a cause never raised, like multiprocessing's RemoteTraceback);
2. and either the message before it quotes nothing traceback-like (no header, no frame line),
   so there is no quoted traceback for the separator to continue;
3. or the next link passed through the frame that caught the previous exception, on another line
   of it: the previous link's first frame (file and function) is among the next link's frames at
   another line number. An exception raised while handling another, or `raise ... from` it, is
   raised in that handler or below it; a quoted traceback's frames are another program's, or, when
   a job quotes another RQ job's failure, the same frames on the same lines.

Limits, where quoted text and a real chain cannot be told apart this way:
- a message quoting a separator and a link, with no traceback-like line before them in that
  message (rule 2), is read as a chain;
- a real chain whose earlier exception quotes a traceback in its message and was caught elsewhere
  and attached later (`raise X from future.exception()`) is read as one exception (rule 3);
- a link without frames (an exception never raised) accepts any well-formed separator, as it
  has no frame for rule 3 to compare: right for multiprocessing's RemoteTraceback, a cause whose
  message quotes the child's traceback, but a group's sub-exception built without raising whose
  message quotes a chained traceback is read by the quoted chain's last link;
- a frame line whose source text or locals span several lines ends the frames early.
Text that is not a traceback (RQ's own "Work-horse terminated unexpectedly ...") is read by its
last line, as is any text without a traceback header whose first line names no exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADER = "Traceback (most recent call last):"
GROUP_HEADER = "Exception Group Traceback (most recent call last):"
SEPARATORS = frozenset(
    (
        "The above exception was the direct cause of the following exception:",
        "During handling of the above exception, another exception occurred:",
    )
)

# `module.Error: message`, `Error: message` or a bare `Error`; qualified names may hold
# `<locals>` (a class defined in a function).
_EXCEPTION_LINE = re.compile(r"(?P<type>[^\W\d]\w*(?:\.(?:[^\W\d]\w*|<locals>))*)(?::.*)?", re.DOTALL)
_NAMED = re.compile(r"[^\W\d]\w*(?:\.(?:[^\W\d]\w*|<locals>))*:")  # a first line naming a type
_FRAME = re.compile(r'  File "(?P<file>.*)", line (?P<line>\d+), in (?P<function>.*)')
_QUOTED_FRAME = re.compile(r'File ".*", line \d+, in ')
# The frames of a top-level link that starts the text: everything indented after the header.
_TOP_FRAMES = re.compile(re.escape(HEADER) + r"\n(?:[ \t][^\n]*(?:\n|$))*")

Frame = tuple[str, str, str]  # (file, line, function)
# Python draws at most 10 nested groups (max_group_depth); deeper box-like text is read no deeper,
# so a crafted traceback cannot recurse without bound.
MAX_GROUP_DEPTH = 16


@dataclass(frozen=True)
class Raised:
    """The raised exception as the traceback names it."""

    line: str  # `Type: first message line`, stripped, up to the first line break of any kind
    type: str | None  # `ValueError`, `requests.HTTPError`; None if the line names no class
    sub_types: tuple[str, ...] = ()  # an exception group's leaf exception types, distinct, sorted
    is_group: bool = False


def type_of_line(line: str | None) -> str | None:
    if line is None:
        return None
    match = _EXCEPTION_LINE.fullmatch(line)
    return match.group("type") if match else None


def read_raised(exc_info: str | None) -> Raised | None:
    """The raised exception of a stored traceback (see the module docstring), or None."""
    if not exc_info:
        return None
    text = exc_info.rstrip().lstrip("\r\n")
    if text.startswith(HEADER + "\n") and "above exception" not in text:
        # One plain link, by far the commonest case: read without splitting lines, as failure
        # groups read thousands of tracebacks, some many kilobytes long.
        top = _TOP_FRAMES.match(text)
        assert top is not None  # it matches any text that starts with HEADER + "\n", as this one does
        after = top.end()
        end = text.find("\n", after)
        return _raised(_first_line(text[after : end if end != -1 else len(text)]))
    lines = text.split("\n")
    start = _first_link(lines)
    if start is None:
        return _raised(_last_line(text))
    return _Chain(lines[start:], 0).raised()


def _first_line(text: str | None) -> str | None:
    """Up to the first line break of any kind (a group's box breaks lines at each of them, as
    str.splitlines does), stripped."""
    lines = text.splitlines() if text else ()
    return (lines[0].strip() or None) if lines else None


def _raised(line: str | None) -> Raised | None:
    return Raised(line, type_of_line(line)) if line else None


def _first_link(lines: list[str]) -> int | None:
    """Where the top-level chain starts: the first line if it begins a link (a header, a group, or
    a line naming an exception), else the first header line after some preamble."""
    first = lines[0]
    if first == HEADER or first.startswith(("  + ", "  | ")) or _NAMED.match(first):
        return 0
    return next((index for index, line in enumerate(lines) if line == HEADER), None)


def _last_line(text: str) -> str | None:
    line = text[text.rfind("\n") + 1 :]
    if not line.isprintable():  # other line breaks (\r, \x0b, \u2028...), or tabs
        line = line.splitlines()[-1]
    return line.strip() or None


def _traceback_like(text: str) -> bool:
    return HEADER in text or GROUP_HEADER in text or _QUOTED_FRAME.search(text) is not None


class _Chain:
    """One chain printed at group depth `depth`: 0 for the top level, where plain links have no
    prefix; n inside the boxes of a group, where every line starts `"  " * n + "| "`."""

    def __init__(self, lines: list[str], depth: int) -> None:
        self.lines = lines
        self.depth = depth
        pad = "  " * max(depth, 1)  # a top-level group is drawn one level in
        self._prefixes, self._cut, self._blank = (pad + "| ", pad + "+ "), len(pad) + 2, pad + "|"

    def content(self, line: str, group: bool = False) -> str | None:
        """The line without its group prefix; None for a line of a deeper box."""
        if self.depth == 0 and not group:
            return line
        if line.startswith(self._prefixes):
            return line[self._cut :]
        return "" if line == self._blank else None

    def is_group_start(self, index: int) -> bool:
        line = self.lines[index]
        if self.depth == 0:
            return line.startswith(("  + ", "  | "))
        return self.content(line) == GROUP_HEADER

    def starts_link(self, index: int) -> bool:
        """Rule 1: a header and a frame, or a group header, at `index`."""
        if index + 1 >= len(self.lines):
            return False
        if self.depth == 0 and self.lines[index] == "  + " + GROUP_HEADER:
            return True
        head = self.content(self.lines[index])
        if head == GROUP_HEADER:
            return True
        return head == HEADER and _FRAME.fullmatch(self.content(self.lines[index + 1]) or "") is not None

    def frames(self, start: int, limit: int | None = None) -> tuple[list[Frame], int]:
        """The frames of the link starting at `start` (the first `limit` of them), and the index of
        its exception line: the first line after the header that is not indented."""
        lines, index = self.lines, start
        frames: list[Frame] = []
        group = self.is_group_start(start)
        if self.content(lines[start], group) not in (HEADER, GROUP_HEADER):
            return frames, index  # a link without frames
        plain = self.depth == 0 and not group
        prefixes = ("",) if plain else self._prefixes
        indented, cut = tuple(p + c for p in prefixes for c in " \t"), 0 if plain else self._cut
        index += 1
        while index < len(lines) and lines[index].startswith(indented):
            line = lines[index]
            wanted = limit is None or len(frames) < limit
            if wanted and line.startswith('  File "', cut) and (frame := _FRAME.fullmatch(line, cut)):
                frames.append((frame["file"], frame["line"], frame["function"]))
            index += 1
        return frames, index

    def is_separator(self, index: int) -> bool:
        if self.content(self.lines[index]) not in SEPARATORS:
            return False
        return self.content(self.lines[index - 1]) == "" and self.content(self.lines[index + 1]) == ""

    def last_link(self) -> tuple[int, int]:
        """Where the last link starts, by rules 1 to 3 of the module docstring, and where its
        exception line is. Linear: each line is looked at a bounded number of times, however
        many separators a message quotes."""
        lines, start = self.lines, 0
        group = self.is_group_start(0)
        frames, scanned = self.frames(0, limit=1)
        exception_at = scanned
        first_frame = frames[0] if frames else None
        quotes = False  # whether the current link's message quotes a traceback
        for index in range(1, len(lines) - 2):
            if "above exception" not in lines[index]:  # cheap: most lines are no separator
                continue
            if not (self.is_separator(index) and self.starts_link(index + 2)):
                continue
            for line in lines[scanned + 1 : index - 1]:
                content = self.content(line, group)
                quotes = quotes or (content is not None and _traceback_like(content))
            scanned = max(scanned, index - 1)
            if quotes and first_frame is not None:
                file, number, function = first_frame
                following, _ = self.frames(index + 2)
                if not any(f == file and fn == function and n != number for f, n, fn in following):
                    continue  # rule 3: the separator is quoted text
            start, group, quotes = index + 2, self.is_group_start(index + 2), False
            frames, scanned = self.frames(start, limit=1)
            exception_at = scanned
            first_frame = frames[0] if frames else None
        return start, exception_at

    def raised(self) -> Raised | None:
        start, index = self.last_link()
        group = self.is_group_start(start) or (
            self.depth > 0 and any(line.startswith("  " * self.depth + "+-+") for line in self.lines[start:])
        )
        line = _first_line(self.content(self.lines[index], group)) if index < len(self.lines) else None
        if not line:
            return None
        if not group:
            return Raised(line, type_of_line(line))
        return Raised(line, type_of_line(line), self.leaf_types(start), is_group=True)

    def leaf_types(self, start: int) -> tuple[str, ...]:
        """The types of a group's leaf exceptions: each box's raised exception, or a nested
        group's leaves. Boxes left out for width ("and 3 more exceptions") add nothing."""
        depth = max(self.depth, 1)
        first_box = "  " * depth + "+-+"
        boundary, nested_first = "  " * (depth + 1) + "+-", "  " * (depth + 1) + "+-+"
        boxes: list[list[str]] = []
        truncated = False
        for line in self.lines[start:]:
            if not boxes:
                if line.startswith(first_box):
                    boxes.append([])
                continue
            if line.startswith(boundary) and not line.startswith(nested_first):
                truncated = " ... " in line
                boxes.append([])
            elif not truncated:
                boxes[-1].append(line)
        types: set[str] = set()
        for box in boxes:
            if not box or depth >= MAX_GROUP_DEPTH:
                continue
            raised = _Chain(box, depth + 1).raised()
            if raised is None:
                continue
            if raised.is_group:
                types.update(raised.sub_types)
            elif raised.type is not None:
                types.add(raised.type)
        return tuple(sorted(types))


def exception_line(exc_info: str | None) -> str | None:
    """The raised exception's line, `Type: first message line`, stripped."""
    raised = read_raised(exc_info)
    return raised.line if raised else None


def exception_type(exc_info: str | None) -> str | None:
    """The raised exception's class as the traceback names it (`ValueError`, `requests.HTTPError`,
    `ExceptionGroup`). Every view that types a failure (filters, groups) reads it here."""
    raised = read_raised(exc_info)
    return raised.type if raised else None
