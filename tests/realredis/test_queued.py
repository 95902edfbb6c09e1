"""QueuedCalls (gateway/services/redis/queued.py) on a real redis-server: calls queued on a
connection of their own come back in order; whatever happens, the connection goes back to the
pool with no reply left unread, so the pool's next user reads its own replies."""

from __future__ import annotations

import pytest
import redis

from gateway.services.redis.queued import QueuedCalls

ECHO = "return ARGV[1]"
INCR = "return redis.call('INCR', KEYS[1])"


def test_replies_come_back_in_order_and_close_reads_what_is_still_queued(r):
    calls = QueuedCalls(r, INCR)
    for _ in range(3):
        calls.send(["n"], [])
    assert calls.read()[1] == 1
    calls.close()  # two replies unread: read here, not by the pool's next user
    assert r.get("n") == b"3"  # the calls queued ran, read or not
    assert r.echo("mine") == b"mine"
    assert calls.queued == 0


def test_an_error_reply_closes_the_calls_and_the_next_send_opens_a_fresh_connection(r):
    calls = QueuedCalls(
        r, "if ARGV[1] == 'x' then return redis.error_reply('ERR refused') end return ARGV[1]"
    )
    for arg in ("x", "b", "c"):
        calls.send([], [arg])
    with pytest.raises(redis.ResponseError, match="refused"):
        calls.read()
    assert calls.queued == 0 and r.echo("mine") == b"mine"
    calls.send([], ["d"])
    assert calls.read()[1] == b"d"
    calls.close()


def test_a_connection_lost_mid_queue_is_dropped_not_handed_back_with_replies_pending(r):
    calls = QueuedCalls(r, ECHO)
    calls.send([], ["a"])
    assert calls.read()[1] == b"a"  # the connection is open
    r.client_kill_filter(_type="normal", skipme=True)
    with pytest.raises(redis.ConnectionError):  # on a send (a broken pipe) or on the read
        calls.send([], ["b"])
        calls.send([], ["c"])
        calls.read()
    assert calls.queued == 0 and r.echo("mine") == b"mine"


def test_no_health_check_ping_is_sent_behind_a_queued_call(redis_url):
    """The gateway's client PINGs an idle connection before a command (health_check_interval): a
    PING behind a queued call would read that call's reply as its own."""
    client = redis.Redis.from_url(redis_url, health_check_interval=1e-9)
    try:
        calls = QueuedCalls(client, ECHO)
        for arg in "abc":
            calls.send([], [arg])
        assert [calls.read()[1] for _ in range(3)] == [b"a", b"b", b"c"]
        calls.close()
    finally:
        client.close()
