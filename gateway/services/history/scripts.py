"""The history's Lua scripts (lua/*.lua beside this module), read once at import through
importlib.resources, as redis/scripts.py reads the job scripts. Each file's first comment names
its caller, KEYS, ARGV and reply."""

from __future__ import annotations

from importlib.resources import files

from gateway.services.redis.resend import reads_only

LUA = files(__name__.rpartition(".")[0]).joinpath("lua")


def read_lua(name: str) -> str:
    return LUA.joinpath(f"{name}.lua").read_text(encoding="utf-8")


LEASE = read_lua("lease")
RELEASE = read_lua("release")
COMMIT = read_lua("commit")
UNSEEN = reads_only(read_lua("unseen"))  # sent again after a dropped connection (redis/resend.py)
