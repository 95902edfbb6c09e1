"""The history's Lua scripts (gateway/services/history/lua/): each is found as package data, is
used, names its caller, and compiles as Redis's Lua 5.1."""

from __future__ import annotations

from importlib.resources import files

import pytest

from gateway.services.history import scripts
from tests.test_scripts import compile_error

NAMES = ["LEASE", "RELEASE", "COMMIT", "UNSEEN"]


def test_every_lua_file_is_found_used_and_names_its_caller():
    found = {entry.name for entry in files("gateway.services.history").joinpath("lua").iterdir()}
    used = "".join(getattr(scripts, name) for name in NAMES)
    assert {f"{name.lower()}.lua" for name in NAMES} == found
    for name in found:
        text = scripts.read_lua(name.removesuffix(".lua"))
        assert text.startswith("-- Run by"), name
        assert text in used


@pytest.mark.parametrize("name", NAMES)
def test_every_script_compiles_as_redis_lua(name):
    assert compile_error(getattr(scripts, name)) is None
