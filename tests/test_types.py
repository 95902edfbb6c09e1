"""Type-check hygiene: every ignore comment in gateway/ says, on its own line, why it is needed."""

from __future__ import annotations

import re
from pathlib import Path

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"

# An ignore comment, with what follows it on the line.
_IGNORE = re.compile(r"#\s*(?:type|pyright):\s*ignore\b(?P<rest>.*)$")
# What an explained ignore looks like: `# pyright: ignore[rule]  -- why` (a rule, then a reason).
_EXPLAINED = re.compile(r"^\[[\w, -]+\]\s+--\s+\S")


def unexplained_ignores(text: str) -> list[int]:
    """Line numbers of ignore comments that name no rule or give no reason after ` -- `."""
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if (ignore := _IGNORE.search(line)) and not _EXPLAINED.match(ignore["rest"])
    ]


def test_every_ignore_in_gateway_names_its_rule_and_reason():
    found = [
        f"{path.relative_to(GATEWAY.parent)}:{number}"
        for path in sorted(GATEWAY.rglob("*.py"))
        for number in unexplained_ignores(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "ignore comments without `[rule]  -- reason` on the same line"


def test_the_check_catches_each_unexplained_form():
    bare = "x = f()  # type: ignore\n"
    no_reason = "x = f()  # type: ignore[arg-type]\n"
    pyright_bare = "x = f()  # pyright: ignore\n"
    pyright_no_reason = "x = f()  # pyright: ignore[reportArgumentType]\n"
    empty_reason = "x = f()  # pyright: ignore[reportArgumentType]  --\n"
    explained = "x = f()  # pyright: ignore[reportArgumentType]  -- rq leaves it unannotated\n"
    for text in (bare, no_reason, pyright_bare, pyright_no_reason, empty_reason):
        assert unexplained_ignores("ok = 1\n" + text) == [2], text
    assert unexplained_ignores(explained) == []
    assert unexplained_ignores("# a comment on type: checking\n") == []
