"""Which commands the client may send again after a dropped connection (redis/resend.py): reads,
and the Lua scripts declared reads_only, which must call no write command. The effect on a real
server behind a connection-cutting proxy is tests/realredis/test_resend_real.py."""

from __future__ import annotations

import hashlib
import re

import pytest
import redis
from redis.exceptions import ReadOnlyError

from gateway.services.history import scripts as history_scripts
from gateway.services.redis import scripts
from gateway.services.redis.connection import ConnectionOptions, SentinelTarget, connect_redis
from gateway.services.redis.resend import (
    READS,
    GatewayRedis,
    OutcomeUnknown,
    SendOnceRetry,
    may_write,
    unknown_if_written,
)

READ_ONLY_SCRIPTS = {
    "LIVE_SLICE": scripts.LIVE_SLICE,
    "LIVE_LAST": scripts.LIVE_LAST,
    "LIVE_AFTER": scripts.LIVE_AFTER,
    "LIVE_BEFORE": scripts.LIVE_BEFORE,
    "QUEUE_PAGE": scripts.QUEUE_PAGE,
    "FILTER_AFTER": scripts.FILTER_AFTER,
    "LOCATE": scripts.LOCATE,
    "CAUSE_FIELDS": scripts.CAUSE_FIELDS,
    "JOB_FIELDS": scripts.JOB_FIELDS,
    "UNSEEN": history_scripts.UNSEEN,
}


def _sha(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()


def _called(text: str) -> set[str]:
    return {c.upper() for c in re.findall(r"redis\.p?call\(\s*['\"](\w+)['\"]", text)}


def _writing_helpers(prelude: str) -> set[str]:
    """The prelude's functions that call a write command (their bodies run to the next one)."""
    parts = re.split(r"^local function (\w+)\(", prelude, flags=re.M)
    return {name for name, body in zip(parts[1::2], parts[2::2], strict=True) if not _called(body) <= READS}


@pytest.mark.parametrize("name", sorted(READ_ONLY_SCRIPTS))
def test_a_script_declared_reads_only_calls_no_write_command(name):
    text = READ_ONLY_SCRIPTS[name]
    preludes = [scripts.PRELUDE, scripts.read_lua("prelude_desc")]
    body = text
    for prelude in preludes:
        body = body.replace(prelude, "")
    called = _called(body)
    assert _called(text), f"{name}: no redis.call found (the pattern no longer matches the scripts)"
    assert called <= READS, f"{name} calls {sorted(called - READS)}: not a read"
    writers = set().union(*(_writing_helpers(prelude) for prelude in preludes))
    assert writers, "the prelude's take_out writes: the helper pattern no longer matches"
    assert not [w for w in writers if re.search(rf"\b{w}\(", body)], (
        f"{name} calls a prelude helper that writes"
    )
    assert not may_write(("EVALSHA", _sha(text), 0))


@pytest.mark.parametrize(
    "script",
    [scripts.REQUEUE, scripts.DELETE, scripts.ENQUEUE_NOW, scripts.OPERATION_CREATE, history_scripts.COMMIT],
)
def test_a_script_that_writes_is_a_write(script):
    assert may_write(("EVALSHA", _sha(script), 2, "a", "b"))
    assert may_write(("EVAL", script, 0))


@pytest.mark.parametrize(
    "args, writes",
    [
        (("RPUSH", "rq:queue:default", "id"), True),
        ((b"XADD", "rq-gateway:audit", "*", "record", "{}"), True),
        (("HINCRBY", "h", "f", 1), True),
        (("PUBLISH", "rq:pubsub:w", "{}"), True),
        (("SOMETHING-NEW",), True),  # unknown: treated as a write
        (("HGETALL", "rq:job:x"), False),
        ((b"zrange", "rq:failed:default", 0, -1), False),
        (("SCRIPT LOAD", "return 1"), False),
        (("SCRIPT", "FLUSH"), True),
        (("CLIENT SETINFO", "LIB-NAME", "redis-py"), False),
    ],
)
def test_commands_are_writes_unless_known_reads(args, writes):
    assert may_write(args) is writes


def test_a_lost_write_is_outcome_unknown_unless_its_reply_said_it_did_not_run():
    lost = redis.ConnectionError("Connection closed by server.")
    assert isinstance(unknown_if_written(lost, [("GET", "k"), ("RPUSH", "q", "id")]), OutcomeUnknown)
    assert unknown_if_written(lost, [("GET", "k")]) is None
    try:  # as redis-py's Sentinel connection raises for a demoted master's READONLY
        try:
            raise ReadOnlyError("READONLY")
        except ReadOnlyError:
            raise redis.ConnectionError("The previous master is now a slave") from None
    except redis.ConnectionError as demoted:
        demoted.__context__ = demoted.__context__ or ReadOnlyError("READONLY")
        assert unknown_if_written(demoted, [("RPUSH", "q", "id")]) is None


def test_every_client_sends_writes_at_most_once():
    direct = connect_redis("redis://127.0.0.1:1/0", ConnectionOptions())
    sentinel = connect_redis(SentinelTarget((("127.0.0.1", 1),), "mymaster"), ConnectionOptions())
    for client in (direct, sentinel):
        assert isinstance(client, GatewayRedis)
        assert isinstance(client.connection_pool.connection_kwargs["retry"], SendOnceRetry)
        assert type(client.pipeline()).__name__ == "GatewayPipeline"
