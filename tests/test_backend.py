"""Redis failures become BackendUnavailable (503 / SERVICE_UNAVAILABLE), and fail fast."""

from __future__ import annotations

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from redis._parsers import BaseParser  # the parser redis-py turns every error reply with

from gateway.errors import BackendUnavailable
from gateway.services.redis import backend


def test_a_failure_makes_calls_fail_fast_until_a_probe_succeeds(service, conn, round_trips):
    server = conn.connection_pool.connection_kwargs["server"]
    server.connected = False
    with pytest.raises(BackendUnavailable):
        service.stats()
    server.connected = True
    round_trips.reset()
    with pytest.raises(BackendUnavailable):
        service.stats()  # inside the fail-fast window: Redis is not asked
    assert round_trips.count == 0
    assert service.ping() is True  # a probe always asks, and ends the window
    assert service.stats().failed_count == 0


def test_the_window_expires_by_itself(service, conn, monkeypatch):
    monkeypatch.setattr(backend, "FAIL_FAST_SECONDS", 0.0)
    server = conn.connection_pool.connection_kwargs["server"]
    server.connected = False
    with pytest.raises(BackendUnavailable):
        service.stats()
    server.connected = True
    assert service.stats().failed_count == 0


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (redis.exceptions.ReadOnlyError("READONLY You can't write against a read only replica."), True),
        (redis.ResponseError("OOM command not allowed when used memory > 'maxmemory'."), True),
        (redis.exceptions.NoPermissionError("NOPERM this user has no permissions"), True),
        (redis.ResponseError("NOREPLICAS Not enough good replicas to write."), True),
        (redis.ResponseError("ERR something else"), False),
    ],
)
def test_refusals_of_an_unhealthy_redis_are_unavailable(service, monkeypatch, error, unavailable):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(service.connection, "pipeline", refuse)
    expected = BackendUnavailable if unavailable else redis.ResponseError
    with pytest.raises(expected) as caught:
        service.stats()
    if unavailable:
        assert error.args[0].split()[0] in caught.value.message
        assert "rq:" not in caught.value.message


def test_a_key_of_the_wrong_type_does_not_fail_the_list(service, conn, factory):
    broken, healthy = factory.failed(2)
    conn.delete(f"rq:results:{broken}")
    conn.set(f"rq:results:{broken}", "junk")
    conn.delete(f"rq:job:{healthy}")
    conn.set(f"rq:job:{healthy}", "junk")
    listed = {job.job_id: job for job in service.list_failed()}
    assert listed[broken].func_name.endswith("parse_report") and listed[broken].exc_info is None
    assert listed[healthy].status == "failed" and listed[healthy].func_name is None


_REFUSAL_CODES = sorted({*backend._UNAVAILABLE_REPLIES, "NOPERM"})


@given(
    code=st.sampled_from(_REFUSAL_CODES),
    text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    in_pipeline=st.booleans(),
)
def test_every_refusal_code_is_a_503_however_redis_py_shapes_it(code, text, in_pipeline):
    """The class, not the instances: redis-py turns some codes into classes and drops the code
    from the message (NOPERM, READONLY, OOM, ...), and a pipeline prefixes the failing command.
    Each is still recognised, named by its code, and Redis' own text (which can name keys) is
    never passed on."""
    error = BaseParser.parse_error(f"{code} the rq:job:secret key {text}".rstrip())
    if in_pipeline:
        error.args = (f"Command # 2 (EVALSHA abc 1 rq:failed:default) of pipeline caused error: {error}",)
    explained = backend.explain(error)
    # NOAUTH is an authentication failure to redis-py, and said as one.
    assert explained is not None and ("credentials" if code == "NOAUTH" else code) in explained
    assert "rq:" not in explained
