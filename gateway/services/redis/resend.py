"""Which commands redis-py may send again after a dropped connection: reads only.

The client retries once on a connection error (connection.py), so a restarted Redis or a moved
Sentinel master is picked up silently. But a connection that drops after Redis ran a command and
before its reply arrived looks the same to redis-py, which would send the command again: a job
id pushed twice onto its queue (it then runs twice), an audit entry written twice, a Lua claim
answered "not found" because its first run already claimed the job. So a command that may write
is sent at most once. Once it left the gateway, a lost reply is `OutcomeUnknown` (a 503 saying so)
and never a second send; only reads, and Lua scripts declared `reads_only`, are sent again. A
write whose reply says it did not run (READONLY from a demoted master, which redis-py's Sentinel
connection turns into a connection error) is sent again too: nothing happened the first time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import redis
from redis.client import Pipeline
from redis.exceptions import ReadOnlyError
from redis.retry import Retry

# Commands that never write, by name (upper case). Anything else may write.
READS = frozenset(
    (
        *("BITCOUNT", "DBSIZE", "ECHO", "EVALSHA_RO", "EVAL_RO", "EXISTS", "GET", "GETRANGE", "INFO"),
        *("HEXISTS", "HGET", "HGETALL", "HKEYS", "HLEN", "HMGET", "HSCAN", "HSTRLEN", "HVALS"),
        *("KEYS", "LINDEX", "LLEN", "LPOS", "LRANGE", "MGET", "OBJECT", "PING", "PTTL", "SCAN"),
        *("SCARD", "SISMEMBER", "SMEMBERS", "SMISMEMBER", "SRANDMEMBER", "SSCAN", "STRLEN", "TIME"),
        *("TTL", "TYPE", "XINFO", "XLEN", "XRANGE", "XREVRANGE", "ZCARD", "ZCOUNT", "ZLEXCOUNT"),
        *("ZMSCORE", "ZRANGE", "ZRANGEBYLEX", "ZRANGEBYSCORE", "ZRANK", "ZREVRANGE", "ZREVRANGEBYLEX"),
        *("ZREVRANGEBYSCORE", "ZREVRANK", "ZSCAN", "ZSCORE"),
        # A transaction's frame: what decides is the commands inside (GatewayPipeline).
        *("MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH"),
    )
)
# Commands that name a subcommand: reads only with one of these.
READ_SUBCOMMANDS = frozenset(
    {"SCRIPT EXISTS", "SCRIPT LOAD", "CLIENT SETNAME", "CLIENT SETINFO", "CONFIG GET"}
)

_READ_ONLY_SCRIPTS: set[str] = set()  # the SHA1s of the scripts declared reads_only


def reads_only(script: str) -> str:
    """Declare a Lua script a read (it calls no write command; tests/test_resend.py checks), so
    its EVALSHA may be sent again after a dropped connection. Returns the script."""
    _READ_ONLY_SCRIPTS.add(hashlib.sha1(script.encode("utf-8")).hexdigest())
    return script


def _text(part: Any) -> str:
    return part.decode("utf-8", "replace") if isinstance(part, bytes) else str(part)


def may_write(args: Sequence[Any]) -> bool:
    """Whether a command (its arguments as redis-py sends them) may change Redis."""
    if not args:
        return False
    name = _text(args[0]).upper()
    if " " in name:
        return name not in READ_SUBCOMMANDS
    if name in ("EVALSHA", "EVAL"):
        return len(args) < 2 or _script_sha(name, args[1]) not in _READ_ONLY_SCRIPTS
    if name in ("SCRIPT", "CLIENT", "CONFIG") and len(args) > 1:
        return f"{name} {_text(args[1]).upper()}" not in READ_SUBCOMMANDS
    return name not in READS


def _script_sha(name: str, script: Any) -> str:
    if name == "EVAL":
        return hashlib.sha1(_text(script).encode("utf-8")).hexdigest()
    return _text(script).lower()


class OutcomeUnknown(redis.ConnectionError):
    """The connection dropped after a write was sent and before its reply: it may have run."""

    def __init__(self, command: str):
        super().__init__(  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py
            f"The connection to Redis dropped after the gateway sent {command} and before Redis "
            "answered: it may or may not have taken effect. Look at the job or queue before trying again"
        )


def _did_not_run(error: BaseException) -> bool:
    """A connection error raised for a reply that says the command was refused, not run."""
    return isinstance(error.__context__, ReadOnlyError)


def unknown_if_written(error: BaseException, commands: Sequence[Sequence[Any]]) -> OutcomeUnknown | None:
    """OutcomeUnknown for a connection lost while `commands` were sent or answered, if one of them
    may write and nothing says it did not run; else None (the error stands, and may be retried)."""
    if isinstance(error, OutcomeUnknown) or _did_not_run(error):
        return None
    written = next((args for args in commands if may_write(args)), None)
    return None if written is None else OutcomeUnknown(_text(written[0]).upper())


class SendOnceRetry(Retry):
    """redis-py's retry, which never sends again what raised OutcomeUnknown."""

    def call_with_retry(self, do: Any, fail: Any, is_retryable: Any = None, with_failure_count: bool = False):
        def retryable(error: Exception) -> bool:
            if isinstance(error, OutcomeUnknown):
                return False
            return is_retryable is None or is_retryable(error)

        return super().call_with_retry(do, fail, retryable, with_failure_count)


_LOST = (redis.ConnectionError, redis.TimeoutError)


class GatewayRedis(redis.Redis):
    """A client whose writes are sent at most once (see the module's doc)."""

    def _send_command_parse_response(self, conn: Any, command_name: Any, *args: Any, **options: Any) -> Any:
        # Not sent (the send failed): it did not run, and may be sent again.
        conn.send_command(*args, **options)
        try:
            return self.parse_response(conn, command_name, **options)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]  -- unannotated in redis-py
        except _LOST as error:
            unknown = unknown_if_written(error, [args])
            if unknown is None:
                raise
            raise unknown from error

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        return GatewayPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


class GatewayPipeline(Pipeline):
    """A pipeline (or MULTI/EXEC) holding a write is sent at most once: a connection lost while it
    is sent or answered is OutcomeUnknown (some of its commands may have run)."""

    def _execute_transaction(self, connection: Any, commands: Any, raise_on_error: Any) -> Any:
        return _sent_once(super()._execute_transaction, connection, commands, raise_on_error)  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py

    def _execute_pipeline(self, connection: Any, commands: Any, raise_on_error: Any) -> Any:
        return _sent_once(super()._execute_pipeline, connection, commands, raise_on_error)  # pyright: ignore[reportUnknownMemberType]  -- unannotated in redis-py


def _sent_once(execute: Any, connection: Any, commands: Any, raise_on_error: Any) -> Any:
    """A pipeline's or transaction's `execute`, its lost connection OutcomeUnknown when one of
    its commands may write."""
    try:
        return execute(connection, commands, raise_on_error)
    except _LOST as error:
        unknown = unknown_if_written(error, [args for args, _ in commands])
        if unknown is None:
            raise
        raise unknown from error
