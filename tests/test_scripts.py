"""The Lua scripts are ordinary files in gateway/services/redis/lua/, read once at import through
importlib.resources (so a non-editable install finds them: tests/test_docs_pages.py checks the
wheel ships them), and each one is a script Redis accepts."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
from lupa import lua51

from gateway.services.redis import scripts

SCRIPTS = ["LIVE_SLICE", "LIVE_LAST", "LIVE_AFTER", "LIVE_BEFORE", "REQUEUE", "REQUEUE_DRY", "DELETE"]
SCRIPTS += [
    "DELETE_DRY",
    "CANCEL",
    "EMPTY",
    "QUEUE_PAGE",
    "FILTER_AFTER",
    "LOCATE",
    "CAUSE_FIELDS",
    "JOB_FIELDS",
]
SCRIPTS += ["ENQUEUE_NOW"]
SCRIPTS += [
    "OPERATION_REQUEUE",
    "OPERATION_DELETE",
    "OPERATION_WALK_REQUEUE",
    "OPERATION_WALK_DELETE",
    "OPERATION_CREATE",
    "OPERATION_END",
    "OPERATION_LEASE",
    "OPERATION_HANDED_OVER",
    "OPERATION_FINISH_RECORD",
]


def test_every_lua_file_is_found_as_package_data_and_used():
    found = {entry.name for entry in files("gateway.services.redis").joinpath("lua").iterdir()}
    assert {name for name in found if name.endswith(".lua")} == found
    used = "".join(getattr(scripts, name) for name in SCRIPTS)
    for name in found:
        text = scripts.read_lua(name.removesuffix(".lua"))
        assert text.startswith("-- Run by") or name.startswith("prelude"), f"{name} names its caller"
        assert text in used, f"{name} is read but no script uses it"


# Scripts that touch no registry entry: cancel, and the operation store's own steps.
WITHOUT_PRELUDE = {
    "CANCEL",
    "OPERATION_CREATE",
    "OPERATION_END",
    "OPERATION_LEASE",
    "OPERATION_HANDED_OVER",
    "OPERATION_FINISH_RECORD",
}


def test_the_prelude_comes_first_in_every_script_but_cancel():
    for name in SCRIPTS:
        script = getattr(scripts, name)
        assert script.startswith(scripts.PRELUDE) == (name not in WITHOUT_PRELUDE), name


def compile_error(script: str) -> str | None:
    """The error Lua 5.1, Redis's Lua, gives compiling the script; None when it compiles."""
    runtime = lua51.LuaRuntime(unpack_returned_tuples=True)
    compiled = runtime.globals().loadstring(script)  # the function, or (nil, message)
    return compiled[1] if isinstance(compiled, tuple) else None


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_compiles_as_redis_lua(name):
    assert compile_error(getattr(scripts, name)) is None
    assert compile_error(getattr(scripts, name) + "\nlocal x =") is not None  # the check can fail


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_script_reads_redis_clock(name):
    """From Redis 7.2 on, TIME stands still inside a script (redis/redis#10300), and some hosted
    Redis refuse it there: a script that timed itself would read 0 µs, and operations sized their
    chunks from that. They time a call's round trip on the gateway's clock instead (steps.Step)."""
    text = getattr(scripts, name)
    assert not re.search(r"""redis\.p?call\(\s*['"]time['"]""", text, re.IGNORECASE)
