"""The damaged-data rule's helpers: escapes that keep damaged bytes visible, internal names that
still address their own keys, wrong-type replies read as absent, and the scripts' UTF-8 check
agreeing with Python's decoder on any bytes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import ResponseError

from gateway.services.redis import damaged
from gateway.services.redis.scripts import PRELUDE

IS_UTF8 = PRELUDE + "\nif is_utf8(ARGV[1]) then return 1 end\nreturn 0\n"
OF_TYPE = PRELUDE + "\nif of_type(KEYS[1], ARGV[1]) then return 1 end\nreturn 0\n"


def test_shown_escapes_only_what_is_not_utf8():
    assert damaged.shown("ünï:1".encode()) == "ünï:1"
    assert damaged.shown(b"caf\xe9-\xff") == "caf\\xe9-\\xff"
    assert damaged.shown_or_none(b"") is None


@given(st.binary(max_size=40))
def test_internal_names_give_back_the_exact_key_bytes(raw):
    name = damaged.internal(raw)
    assert damaged.key_bytes(f"rq:queue:{name}") == b"rq:queue:" + raw
    assert damaged.decodes(name) == _decodes(raw)
    assert damaged.shown_name(name) == raw.decode("utf-8", "backslashreplace")


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def test_a_wrong_type_reply_reads_as_absent_and_other_errors_are_raised():
    wrongtype = ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")
    assert damaged.readable(wrongtype) is None
    assert damaged.readable([b"a"]) == [b"a"]
    with pytest.raises(ResponseError, match="ERR"):
        damaged.readable(ResponseError("ERR something else"))


def test_execute_reads_a_pipeline_with_wrong_type_keys_as_absent(conn):
    conn.set("s", "x")
    conn.sadd("set", "m")
    with conn.pipeline(transaction=False) as pipe:
        pipe.smembers("s")
        pipe.smembers("set")
        pipe.llen("s")
        assert damaged.execute(pipe) == [None, {b"m"}, None]


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=12), st.text(max_size=6).map(str.encode)))
def test_the_scripts_utf8_check_agrees_with_python(conn, raw):
    assert conn.eval(IS_UTF8, 0, raw) == int(_decodes(raw))


@pytest.mark.parametrize(
    ("make", "wanted", "expected"),
    [(None, "zset", 1), ("zset", "zset", 1), ("string", "zset", 0), ("list", "list", 1), ("hash", "list", 0)],
)
def test_of_type_accepts_the_wanted_type_or_no_key(conn, make, wanted, expected):
    conn.delete("k")
    if make == "zset":
        conn.zadd("k", {"m": 1})
    elif make == "string":
        conn.set("k", "x")
    elif make == "list":
        conn.rpush("k", "x")
    elif make == "hash":
        conn.hset("k", "f", "v")
    assert conn.eval(OF_TYPE, 1, "k", wanted) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"\xc0\x80",  # overlong NUL
        b"\xe0\x80\xaf",  # overlong '/'
        b"\xed\xa0\x80",  # a UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # beyond U+10FFFF
        b"\xf0\x9f\x98",  # truncated
        b"\xf0\x9f\x98\x80",  # a valid emoji
        b"\xef\xbf\xbf",
        b"\xe2\x82\xac",
    ],
)
def test_the_scripts_utf8_check_on_edge_sequences(conn, raw):
    assert conn.eval(IS_UTF8, 0, raw) == int(_decodes(raw))


@given(st.binary(min_size=1, max_size=64), st.sampled_from(["-1", "1", "1795999289", "+inf"]))
def test_a_cursor_on_any_registry_member_decodes_to_that_member(member, score):
    from gateway.services.redis.registry import decode_cursor, encode_cursor

    assert decode_cursor(encode_cursor(score, member)) == (score, member)


@pytest.mark.parametrize("member", [b"../x", b"*", b"abc\x00", b"a b"])
def test_a_plain_cursor_member_outside_the_id_pattern_is_refused(member):
    import base64

    from gateway.errors import InvalidParameter
    from gateway.services.redis.registry import decode_cursor

    cursor = base64.urlsafe_b64encode(b"1|" + member).decode()
    with pytest.raises(InvalidParameter, match="Invalid cursor"):
        decode_cursor(cursor)


# Decodings that never reach an answer: a Redis command's name for the resend rule, and the
# history's own bucket names (anything not the writer's is skipped).
_LOSSY_ALLOWED = {"gateway/services/history/timings.py", "gateway/services/redis/resend.py"}


def test_no_redis_bytes_reach_an_answer_through_a_lossy_decode():
    """README: bytes that are not UTF-8 are shown with backslash escapes (damaged.shown). An
    operation's errors, a job's status in a 409 and a worker's name each decoded with
    errors="replace" instead, turning `caf\\xe9` into `caf\\ufffd`, which matches nothing the
    lists show. Every such decoding goes through damaged.shown."""
    root = Path(__file__).resolve().parent.parent
    lossy = re.compile(r"""errors\s*=\s*["']replace["']|["']utf-?8["']\s*,\s*["']replace["']""")
    found = {
        str(path.relative_to(root))
        for path in (root / "gateway").rglob("*.py")
        if lossy.search(path.read_text(encoding="utf-8"))
    }
    assert found <= _LOSSY_ALLOWED, sorted(found - _LOSSY_ALLOWED)
    assert found >= _LOSSY_ALLOWED  # an entry whose file no longer decodes so is dead: delete it
