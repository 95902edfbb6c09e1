"""What the sentinels said when they named no master (gateway/services/redis/sentinel_discovery.py),
and the 503 each case gives (backend.explain): none reachable, no such master, the master down with
no replica to promote, a failover under way."""

from __future__ import annotations

import socket
import threading

import pytest
import redis
from redis.sentinel import MasterNotFoundError

from gateway.services import ConnectionOptions, SentinelTarget, connect_redis
from gateway.services.redis.backend import explain
from gateway.services.redis.sentinel_discovery import (
    ExplainedSentinel,
    MasterNotMonitored,
    MasterWithoutReplica,
    SentinelsUnreachable,
)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sentinels_that_cannot_be_reached_are_not_called_a_failover():
    """No sentinel answered at all (a wrong address, or all of them down): the 503 says so and
    where to look, not "a failover may be under way", which only sentinels that answered can tell."""
    target = SentinelTarget((("127.0.0.1", _closed_port()), ("127.0.0.1", _closed_port())), "mymaster")
    client = connect_redis(target, ConnectionOptions(timeout=1, connect_timeout=1))
    with pytest.raises(redis.RedisError) as caught:
        client.ping()
    message = explain(caught.value)
    assert message is not None and "failover" not in message
    assert message.startswith("No sentinel could be reached (2 asked)")


def test_what_one_discovery_saw_is_not_another_threads():
    """Connections discover the master from several threads at once: one thread's discovery
    (no sentinel reachable) must not change what another's says (its sentinels answered with the
    master down: a failover, not 'no sentinel could be reached')."""

    import redis
    from redis.sentinel import MasterNotFoundError

    from gateway.services.redis.sentinel_discovery import (
        ExplainedSentinel,
        MasterNotMonitored,
        SentinelsUnreachable,
    )

    sentinel = ExplainedSentinel([("127.0.0.1", _closed_port()), ("127.0.0.1", _closed_port())])
    down = {"mymaster": {"is_master": True, "is_sdown": True, "is_odown": False, "num-other-sentinels": 2}}
    a_asking, b_done = threading.Event(), threading.Event()

    def first() -> dict:
        if threading.current_thread().name == "b":
            raise redis.ConnectionError("refused")
        return down

    def second() -> dict:
        if threading.current_thread().name == "a":
            a_asking.set()
            assert b_done.wait(5)
        raise redis.ConnectionError("refused")

    for client, answer in zip(sentinel.sentinels, (first, second), strict=True):
        client.sentinel_masters = sentinel._recording(answer)
    raised: dict[str, BaseException] = {}

    def discover(name: str) -> None:
        if name == "b":
            assert a_asking.wait(5)
        try:
            sentinel.discover_master("mymaster")
        except MasterNotFoundError as error:
            raised[name] = error
        if name == "b":
            b_done.set()

    threads = [threading.Thread(target=discover, args=(name,), name=name) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert isinstance(raised["b"], SentinelsUnreachable)
    assert not isinstance(raised["a"], (SentinelsUnreachable, MasterNotMonitored)), raised["a"]


def _state(down: bool, replicas: int) -> dict:
    """One master's entry in a sentinel's SENTINEL MASTERS answer, as redis-py parses it."""
    flags = {"is_master": True, "is_sdown": down, "is_odown": down}
    return {**flags, "num-other-sentinels": 2, "num-slaves": replicas}


def _asking(answers: list[dict]) -> ExplainedSentinel:
    """An ExplainedSentinel whose sentinels answer SENTINEL MASTERS with `answers`, one each."""
    sentinel = ExplainedSentinel([("127.0.0.1", _closed_port()) for _ in answers])
    for client, answer in zip(sentinel.sentinels, answers, strict=True):
        client.sentinel_masters = sentinel._recording(lambda answer=answer: answer)
    return sentinel


def test_a_master_down_with_no_replica_to_promote_is_not_called_a_failover():
    """A hung or dead master that no replica can replace: no failover will come, so the 503 says
    the master is down and that it answers again only once it is back."""
    sentinel = _asking([{"mymaster": _state(down=True, replicas=0)}] * 2)
    with pytest.raises(MasterWithoutReplica) as caught:
        sentinel.discover_master("mymaster")
    message = explain(caught.value)
    assert message == (
        "The sentinels see Redis master 'mymaster' down and know no replica to promote, so no failover "
        "will replace it; the gateway answers again once it is back"
    )


@pytest.mark.parametrize("replicas", [1, 2])
def test_a_master_down_with_a_replica_may_be_failing_over(replicas):
    sentinel = _asking([{"mymaster": _state(down=True, replicas=replicas)}] * 2)
    with pytest.raises(MasterNotFoundError) as caught:
        sentinel.discover_master("mymaster")
    assert not isinstance(caught.value, (MasterWithoutReplica, MasterNotMonitored, SentinelsUnreachable))
    assert "a failover may be under way" in (explain(caught.value) or "")


def test_one_sentinel_that_knows_a_replica_is_enough_to_expect_a_failover():
    """Sentinels can disagree for a moment (one has not yet seen the replica): any one that knows a
    replica means a failover may come."""
    sentinel = _asking([{"mymaster": _state(True, replicas=0)}, {"mymaster": _state(True, replicas=1)}])
    with pytest.raises(MasterNotFoundError) as caught:
        sentinel.discover_master("mymaster")
    assert not isinstance(caught.value, MasterWithoutReplica)
