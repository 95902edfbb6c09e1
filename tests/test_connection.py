"""The one Redis client builder (gateway/services/redis/connection.py): Sentinel addresses and
URLs parsed, passwords kept out of logs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import Settings
from gateway.errors import InvalidParameter
from gateway.redis_settings import describe_redis
from gateway.services import parse_sentinels, redact
from gateway.services.redis.connection import parse_sentinel_url


@pytest.mark.parametrize(
    "url",
    ["redis+sentinel://h:1", "redis+sentinel://h:1/m/x", "redis+sentinel:///m", "redis+sentinel://h:1/m/0/9"],
)
def test_a_malformed_sentinel_url_is_refused(url):
    with pytest.raises(InvalidParameter, match="expected redis\\+sentinel://host:port"):
        parse_sentinel_url(url)


def test_logged_urls_never_show_the_password():
    assert redact("rediss://gw:s3cret@host:6380/0") == "rediss://gw:***@host:6380/0"
    assert redact("redis+sentinel://:s3cret@h:1,h:2/m/0") == "redis+sentinel://:***@h:1,h:2/m/0"
    assert "s3cret" not in describe_redis(Settings(redis_url="redis://u:s3cret@h:1/0"))


@given(
    st.lists(st.tuples(st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True), st.integers(1, 65535)), min_size=1)
)
def test_any_sentinel_list_reads_back_as_itself(pairs):
    """The class: whatever host:port list is written, the parser reads the same pairs back."""
    assert parse_sentinels(",".join(f"{host}:{port}" for host, port in pairs)) == tuple(pairs)


def _closed_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sentinels_that_cannot_be_reached_are_not_called_a_failover():
    """No sentinel answered at all (a wrong address, or all of them down): the 503 says so and
    where to look, not "a failover may be under way", which only sentinels that answered can tell."""
    import redis

    from gateway.services import ConnectionOptions, SentinelTarget, connect_redis
    from gateway.services.redis.backend import explain

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
    import threading

    import redis
    from redis.sentinel import MasterNotFoundError

    from gateway.services.redis.connection import ExplainedSentinel, MasterNotMonitored, SentinelsUnreachable

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
