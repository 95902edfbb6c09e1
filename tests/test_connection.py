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
