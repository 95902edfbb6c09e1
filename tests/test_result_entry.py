"""A job's newest results entry (services/redis/result_entry.py): every reader of a failed job's
traceback reads the same one, and a finished job's return value is shown only for a success."""

import pickle
import zlib
from base64 import b64encode

from hypothesis import given, settings
from hypothesis import strategies as st
from rq.serializers import DefaultSerializer

from gateway.services.redis.decode import decode_fields, decode_job
from gateway.services.redis.failure_facts import decode_facts

_field_values = st.one_of(st.none(), st.just(b""), st.binary(max_size=8), st.just("caf\u00e9".encode()))
_result_types = st.one_of(st.none(), st.sampled_from([b"1", b"2", b"3", b"x", b""]))
_exc_strings = st.one_of(
    st.none(),
    st.binary(max_size=8),
    st.sampled_from(
        [
            b64encode(zlib.compress(b"Traceback\nKeyError: 'cust-4711'")),
            b64encode(zlib.compress(b"KeyError: caf\xe9")),
            b64encode(zlib.compress(b"")),
            b64encode(b"not zlib"),
        ]
    ),
)
_return_values = st.one_of(
    st.none(),
    st.just(b64encode(pickle.dumps(42))),
    st.just(b64encode(b"not a pickle")),
    st.binary(max_size=8),
)
_CALL = zlib.compress(pickle.dumps(("m.f", None, ("cust-4711",), {})))
_legacy = st.one_of(
    st.none(), st.just(b""), st.just(zlib.compress(b"ValueError: legacy")), st.just(b"plain \xff")
)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(["origin", "description"]), max_size=2, unique=True),
    st.data(),
    _legacy,
    _result_types,
    _exc_strings,
    _return_values,
)
def test_every_reader_of_a_failed_jobs_traceback_reads_the_same_one(
    fields, data, legacy, result_type, exc_string, return_value
):
    """A job's page and lists (decode_job), search (decode_fields over job_fields.lua) and failure
    groups and the failed filters (decode_facts over cause_fields.lua) each read a failed job's
    traceback from the newest results entry's exc_string or the hash's exc_info. They must read
    the same one, damaged entries included, or a search or filter matches what the page does not
    show: a return value or type that does not decode loses only itself."""
    fields = ["status", "data", *fields, "exc_info"]
    values = [b"failed", _CALL, *(data.draw(_field_values) for _ in fields[2:-1]), legacy]
    raw = {name.encode(): value for name, value in zip(fields, values, strict=True) if value}
    parts = ((b"type", result_type), (b"exc_string", exc_string), (b"return_value", return_value))
    entry = {name: value for name, value in parts if value is not None}
    page = decode_job("j1", raw, [(b"1-0", entry)] if entry else [], DefaultSerializer, "q")
    searched = decode_fields("j1", tuple(fields), [*values, exc_string], DefaultSerializer, "q", "failed")
    [facts] = decode_facts(
        [raw.get(b"data"), raw.get(b"ended_at"), legacy, None, exc_string], DefaultSerializer
    )
    assert searched is not None
    assert page.exc_info == searched.exc_info == facts.traceback


def _finished(entry: dict[bytes, bytes]):
    raw = {b"status": b"finished", b"data": _CALL}
    return decode_job("j1", raw, [(b"1-0", entry)], DefaultSerializer, "q").result


def test_a_finished_jobs_result_is_the_return_value_of_a_successful_entry_only():
    value = b64encode(pickle.dumps({"total": 4711}))
    assert _finished({b"type": b"1", b"return_value": value}) == {"total": 4711}
    assert _finished({b"type": b"2", b"return_value": value}) is None  # a failure's entry
    assert _finished({b"type": b"x", b"return_value": value}) is None  # a damaged type
    assert _finished({b"type": b"1", b"return_value": b64encode(b"not a pickle")}) is None
