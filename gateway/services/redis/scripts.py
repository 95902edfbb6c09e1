"""Lua scripts: each runs atomically inside Redis, so a claim and its action are one step.

The scripts are the .lua files in lua/ next to this module, ordinary files an editor highlights;
each begins with a comment naming the code that runs it and its KEYS, ARGV and reply. They are
read once, here, at import (through importlib.resources, so an installed wheel finds them too),
and the callers register them with `register_script`. prelude.lua, the shared helpers, is
prepended to every script but cancel.lua and the operation store's (operation_create, _end,
_lease), which touch no registry entry.

Registry entries whose score lies in [0, now] are ones RQ's own cleanup would delete; every
script treats them as absent and never writes them. Scores below 0 (failure_ttl=-1) never expire.

The scripts that only read are declared `reads_only`: only their calls are sent again after a
dropped connection (resend.py); every other script is sent at most once.
"""

from __future__ import annotations

from importlib.resources import files

from gateway.services.redis.resend import reads_only

# The package this module is in (`__package__` may be None to a type checker).
LUA = files(__name__.rpartition(".")[0]).joinpath("lua")


def read_lua(name: str) -> str:
    """The text of lua/<name>.lua."""
    return LUA.joinpath(f"{name}.lua").read_text(encoding="utf-8")


PRELUDE = read_lua("prelude")

# Registry reads (registry.py).
LIVE_SLICE = reads_only(PRELUDE + read_lua("live_slice"))
LIVE_LAST = reads_only(PRELUDE + read_lua("live_last"))
LIVE_AFTER = reads_only(PRELUDE + read_lua("live_after"))
LIVE_BEFORE = reads_only(PRELUDE + read_lua("prelude_desc") + read_lua("live_before"))

# Failed-job actions (writes/failed_actions.py, writes/lifecycle.py). A dry run runs the same
# body with every write skipped, so it predicts the real run on any data.
_REQUEUE_BODY = read_lua("requeue")
REQUEUE = PRELUDE + "local dry, listed = false, false\n" + _REQUEUE_BODY
REQUEUE_DRY = PRELUDE + "local dry, listed = true, false\n" + _REQUEUE_BODY
_DELETE_BODY = read_lua("delete")
DELETE = PRELUDE + "local dry, listed = false, false\n" + _DELETE_BODY
DELETE_DRY = PRELUDE + "local dry, listed = true, false\n" + _DELETE_BODY
CANCEL = read_lua("cancel")
# Emptying a queue, a chunk a call (writes/empty_queue.py).
EMPTY = PRELUDE + read_lua("empty")


def _operation(body: str, driver: str) -> str:
    """A tracked operation's chunk (operations/chunks.py): `body` as a function of its own KEYS
    and ARGV, the progress helpers, then `driver`, which runs it and records the progress in one
    step: operation_chunk (the ids the gateway read) or operation_walk (reads the registry itself)."""
    wrapped = "local function act(KEYS, ARGV, listed)\n" + body + "\nend\n"
    own_keys = read_lua("prelude_own_keys")
    return (
        PRELUDE
        + "local dry = false\n"
        + wrapped
        + own_keys
        + read_lua("prelude_operation")
        + read_lua(driver)
    )


OPERATION_REQUEUE = _operation(_REQUEUE_BODY, "operation_chunk")
OPERATION_DELETE = _operation(_DELETE_BODY, "operation_chunk")
OPERATION_WALK_REQUEUE = _operation(_REQUEUE_BODY, "operation_walk")
OPERATION_WALK_DELETE = _operation(_DELETE_BODY, "operation_walk")

# Reads (reads/browse.py, reads/filtered.py, reads/locate.py, writes/groups.py).
QUEUE_PAGE = reads_only(PRELUDE + read_lua("queue_page"))
FILTER_AFTER = reads_only(PRELUDE + read_lua("filter_after"))
LOCATE = reads_only(PRELUDE + read_lua("locate"))
CAUSE_FIELDS = reads_only(PRELUDE + read_lua("cause_fields"))

# Tracked operations (operations/store.py).
OPERATION_CREATE = read_lua("prelude_own_keys") + read_lua("operation_create")
OPERATION_END = read_lua("prelude_own_keys") + read_lua("operation_end")
OPERATION_LEASE = read_lua("prelude_own_keys") + read_lua("operation_lease")
OPERATION_HANDED_OVER = read_lua("operation_handed_over")
OPERATION_FINISH_RECORD = read_lua("operation_finish_record")
JOB_FIELDS = reads_only(PRELUDE + read_lua("job_fields"))

# On-call controls (writes/enqueue_now.py).
ENQUEUE_NOW = PRELUDE + read_lua("enqueue_now")
