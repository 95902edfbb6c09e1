"""`CallerInfo`: who the caller of a request is, as a client may see it.

A browser console shows only the controls its key may use (a viewer no actions, an operator
retry but no delete); the server enforces every check anyway. The key's secret is never in it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallerInfo:
    """The API key's name (or `anonymous`), its role, its queue patterns (empty: every queue),
    and whether `--hide-payloads` hides job payloads from it (so a client can say "hidden" where
    it would otherwise show a `null` that looks like the job's own)."""

    name: str
    role: str
    queue_patterns: tuple[str, ...]
    payloads_hidden: bool = False
