"""Read-only registry views (services/redis/registry.py): live entries only, Redis's order, cursors that
round-trip any member, and the bounded, deduplicated walk every bulk action uses."""

from __future__ import annotations

import time

import fakeredis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import InvalidParameter
from gateway.services.redis import keys
from gateway.services.redis.registry import (
    Entry,
    RegistryReader,
    decode_cursor,
    encode_cursor,
    job_id_of,
    once_each,
    pack_cursor,
    unpack_cursor,
    walk_registry,
)

KEY = keys.registry_key("failed", "default")
LATER = 9_999_999_999


@pytest.fixture
def reader(conn) -> RegistryReader:
    return RegistryReader(conn)


def _ids(entries: list[Entry]) -> list[str]:
    return [e.job_id for e in entries]


def test_expired_entries_are_absent_and_never_deleted(conn, reader):
    now = int(time.time())
    conn.zadd(KEY, {"forever": -1, "expired": now - 10, "live": LATER})
    total, entries = reader.slice(KEY)
    assert (total, _ids(entries)) == (2, ["forever", "live"])
    assert reader.last(KEY)[1].job_id == "live"
    assert conn.zcard(KEY) == 3, "a read must not clean up"


def test_after_and_before_page_in_both_directions_from_a_cursor(conn, reader):
    conn.zadd(KEY, {f"j{i}": LATER + i for i in range(5)})
    _, first = reader.after(KEY, None, 2)
    assert _ids(first) == ["j0", "j1"]
    _, rest = reader.after(KEY, (first[-1].score, first[-1].raw), 10)
    assert _ids(rest) == ["j2", "j3", "j4"]
    _, back = reader.before(KEY, (rest[0].score, rest[0].raw), 10)
    assert _ids(back) == ["j1", "j0"]


def test_a_registry_of_another_type_reads_as_empty(conn, reader):
    conn.set(KEY, "not a sorted set")
    assert reader.slice(KEY) == (0, [])
    assert reader.last(KEY) == (0, None)
    assert list(walk_registry(reader, KEY, 10)) == []


def test_the_walk_reads_in_chunks_up_to_the_last_entry_held_at_the_start(conn, reader):
    conn.zadd(KEY, {f"j{i}": LATER + i for i in range(5)})
    walk = walk_registry(reader, KEY, 2)
    total, chunk = next(walk)
    assert (total, _ids(chunk)) == (5, ["j0", "j1"])
    conn.zadd(KEY, {"late": LATER + 100})  # fails meanwhile: after the walk's bound
    assert [(t, _ids(c)) for t, c in walk] == [(5, ["j2", "j3"]), (5, ["j4"])]


def test_the_walk_yields_a_member_once_even_when_it_moves_ahead_of_the_walk(conn, reader):
    conn.zadd(KEY, {"a": LATER, "b": LATER + 1, "c": LATER + 2, "d": LATER + 10})
    walk = walk_registry(reader, KEY, 2)
    assert _ids(next(walk)[1]) == ["a", "b"]
    conn.zadd(KEY, {"a": LATER + 5})  # "a" failed again: re-entered between c and the bound d
    assert [_ids(chunk) for _, chunk in walk] == [["c"], ["d"]]


def test_an_empty_registry_walks_nothing(conn, reader):
    assert list(walk_registry(reader, KEY, 10)) == []


def test_once_each_drops_repeats_and_emptied_chunks():
    def entry(member):
        return Entry(member, "1", member)

    chunks = [[entry("a"), entry("b")], [entry("a")], [entry("c"), entry("b")]]
    assert [_ids(c) for c in once_each(chunks)] == [["a", "b"], ["c"]]


def test_only_the_started_registry_holds_execution_members():
    assert job_id_of(b"job:exec", executions=True) == "job"
    assert job_id_of(b"job:exec", executions=False) == "job:exec"
    assert job_id_of(b"caf\xe9", executions=False) == "caf\\xe9"


@given(
    st.one_of(st.integers(-(10**12), 10**12).map(str), st.sampled_from(["inf", "-inf"])),
    st.binary(min_size=1, max_size=80),
)
def test_a_cursor_round_trips_any_member(score, member):
    assert decode_cursor(encode_cursor(score, member)) == (score, member)


def test_a_cursor_we_did_not_make_is_refused():
    with pytest.raises(InvalidParameter):
        decode_cursor("not-a-cursor")


def test_a_cursor_carries_a_head_and_a_member_and_only_a_score_head_is_a_registry_cursor():
    assert unpack_cursor(pack_cursor("q", b"job-1")) == (b"q", b"job-1")
    with pytest.raises(InvalidParameter):
        decode_cursor(pack_cursor("q", b"job-1"))


_MEMBERS = st.binary(min_size=1, max_size=3)
_SCORES = st.sampled_from([-1, LATER, LATER + 1])  # few scores: ties ordered by member bytes


@given(st.dictionaries(_MEMBERS, _SCORES, max_size=12), _SCORES, _MEMBERS)
def test_after_and_before_split_the_registry_at_any_cursor_in_redis_order(entries, score, member):
    conn = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    if entries:
        conn.zadd(KEY, entries)
    in_order = sorted(((float(s), m) for m, s in entries.items()))
    cursor = (float(score), member)
    reader = RegistryReader(conn)
    _, after = reader.after(KEY, (str(score), member), 100)
    _, before = reader.before(KEY, (str(score), member), 100)
    assert [e.raw for e in after] == [m for s, m in in_order if (s, m) > cursor]
    assert [e.raw for e in before] == [m for s, m in reversed(in_order) if (s, m) < cursor]
