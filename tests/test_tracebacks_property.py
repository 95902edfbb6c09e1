"""Property: for any exception chain, raised for real and printed by `traceback.format_exception`
as RQ stores it, the parser names the outermost exception: its type and first message line, and
for an exception group its leaf types. Messages and notes hold arbitrary text, separator lines,
box lines and whole quoted tracebacks (chained ones and groups too) printed by other code."""

from __future__ import annotations

import builtins
import functools
import sys
import traceback
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gateway.services.domain.tracebacks import GROUP_HEADER, HEADER, SEPARATORS, read_raised

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="ExceptionGroup and add_note are Python 3.11+"
)
ExceptionGroup = getattr(builtins, "ExceptionGroup", Exception)

# Code run as another program would run it (its own file name and functions): what a job quotes.
_CHILD_PROGRAMS = (
    "def crash():\n    raise ValueError('child crashed')\ncrash()",
    "def crash():\n    try:\n        {}['k']\n    except KeyError as e:\n"
    "        raise OSError(5, 'io') from e\ncrash()",
    "def crash():\n    try:\n        1 / 0\n    except ZeroDivisionError:\n"
    "        raise KeyError('during')\ncrash()",
    "raise ExceptionGroup('child group', [ValueError('a'), TypeError('b')])",
    "compile('x = (1,\\n  2 +)', 'broken.py', 'exec')",
)


@functools.cache
def child_tracebacks() -> tuple[str, ...]:
    texts = []
    for index, program in enumerate(_CHILD_PROGRAMS):
        try:
            exec(compile(program, f"/srv/child/program_{index}.py", "exec"), {})
        except BaseException as exc:
            texts.append("".join(traceback.format_exception(exc)).rstrip("\n"))
    return tuple(texts)


_LINE_PIECES = st.sampled_from(
    [
        "",
        HEADER,
        "  " + HEADER,
        "  + " + GROUP_HEADER,
        '  File "/srv/child/x.py", line 3, in crash',
        "    raise ValueError(x)",
        "    ^^^^^^^^^^^^^^^^^^^",
        "ValueError: quoted",
        "  | KeyError: 'boxed'",
        "  +-+---------------- 1 ----------------",
        "    +------------------------------------",
        *sorted(SEPARATORS),
    ]
)
_PIECES = st.one_of(
    st.text(max_size=30),
    _LINE_PIECES,
    st.integers(0, len(_CHILD_PROGRAMS) - 1).map(lambda index: child_tracebacks()[index]),
)
_TEXT = st.lists(_PIECES, max_size=6).map("\n".join)
_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
_MODULE = st.sampled_from(["builtins", "__main__", "app.jobs", "модуль"])


@dataclass(frozen=True)
class Spec:
    """One exception: its class name and module, message, notes, and sub-exceptions (a group)."""

    name: str
    module: str
    message: str
    notes: tuple[str, ...]
    subs: tuple[Chain, ...] | None  # None: not a group
    raised: bool  # sub-exceptions may be built without being raised (no traceback)


@dataclass(frozen=True)
class Chain:
    """Links innermost first; each link after the first says how it chains to the one before."""

    links: tuple[Spec, ...]
    modes: tuple[str, ...]  # "context", "cause" or "none" (`raise ... from None`)


def _spec(subs: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(
        Spec,
        name=_NAME,
        module=_MODULE,
        message=_TEXT,
        notes=st.lists(_TEXT, max_size=2).map(tuple),
        subs=st.none() | st.lists(subs, min_size=1, max_size=4).map(tuple),
        raised=st.booleans(),
    )


def _chain(spec: st.SearchStrategy) -> st.SearchStrategy:
    return st.integers(1, 3).flatmap(
        lambda n: st.builds(
            Chain,
            links=st.lists(spec, min_size=n, max_size=n).map(tuple),
            modes=st.lists(st.sampled_from(["context", "cause", "none"]), min_size=n - 1, max_size=n - 1).map(
                tuple
            ),
        )
    )


_LEAF = _spec(st.nothing())
CHAINS = _chain(st.recursive(_LEAF, lambda inner: _spec(_chain(inner)), max_leaves=6))


def _build(spec: Spec) -> BaseException:
    base = Exception if spec.subs is None else ExceptionGroup
    cls = type(spec.name, (base,), {"__module__": spec.module})
    if spec.subs is None:
        exc = cls(spec.message)
    else:
        exc = cls(
            spec.message,
            [_caught(sub) if sub.links[-1].raised else _build(sub.links[-1]) for sub in spec.subs],
        )
    for note in spec.notes:
        exc.add_note(note)
    return exc


def _raise(chain: Chain, index: int) -> None:
    """Raise link `index`, chained to the links before it as real code chains them: raised in
    the handler of the frame that caught the one before."""
    if index == 0:
        raise _build(chain.links[0])
    try:
        _raise(chain, index - 1)
    except BaseException as inner:
        exc = _build(chain.links[index])
        mode = chain.modes[index - 1]
        if mode == "cause":
            raise exc from inner
        if mode == "none":
            raise exc from None
        raise exc  # noqa: B904 - the implicit context is the point


def _caught(chain: Chain) -> BaseException:
    try:
        _raise(chain, len(chain.links) - 1)
    except BaseException as exc:
        return exc
    raise AssertionError("unreachable")


def _expected_line(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).splitlines()[0].strip()


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    return (
        cls.__qualname__
        if cls.__module__ in ("builtins", "__main__")
        else f"{cls.__module__}.{cls.__qualname__}"
    )


def _leaves(group: BaseException) -> set[str]:
    types: set[str] = set()
    for sub in group.exceptions:
        types |= _leaves(sub) if isinstance(sub, ExceptionGroup) else {_type_name(sub)}
    return types


def _quotes_a_chain(text: str, anywhere: bool) -> bool:
    """Whether the text quotes a separator followed by a link header: the documented limits.
    Rule 2's: with no traceback-like line before them in the message (`anywhere=False`); for an
    exception never raised (no frames to compare), anywhere."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not anywhere and (
            HEADER in line or GROUP_HEADER in line or ('File "' in line and ", line " in line)
        ):
            return False
        if line in SEPARATORS and 0 < index < len(lines) - 2 and lines[index - 1] == lines[index + 1] == "":
            following = lines[index + 2]
            if following == HEADER or following == "  + " + GROUP_HEADER:
                return True
    return False


def _outermost_specs(chain: Chain, raised: bool = True):
    """(spec, whether it was raised) for every spec the parser reads a type from: the chain's
    last link, and the last link of every sub-exception chain of a group."""
    last = chain.links[-1]
    yield last, raised
    for sub in last.subs or ():
        yield from _outermost_specs(sub, sub.links[-1].raised)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CHAINS)
def test_the_outermost_exception_is_named_whatever_the_messages_quote(chain: Chain):
    for spec, raised in _outermost_specs(chain):
        assume(not _quotes_a_chain("\n".join((spec.message, *spec.notes)), anywhere=not raised))
    exc = _caught(chain)
    text = "".join(traceback.format_exception(exc))

    raised = read_raised(text)

    assert raised is not None
    assert raised.type == _type_name(exc)
    assert raised.line == _expected_line(exc)
    if isinstance(exc, ExceptionGroup):
        assert raised.is_group
        assert set(raised.sub_types) == _leaves(exc)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(_PIECES, st.sampled_from(["  | ", "    | ", "  +-+---- 1 ----", "      +-+-- 1 --"])),
        max_size=20,
    )
)
def test_any_text_reads_without_error(pieces: list[str]):
    raised = read_raised("\n".join(pieces))
    assert raised is None or (raised.line and raised.line == raised.line.strip())
