import json
import pickle
import sys
import types
import zlib
from base64 import b64encode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rq.serializers import DefaultSerializer

from gateway.services.redis.decode import (
    _decode_call,
    decode_fields,
    decode_job,
    format_timestamp,
)
from gateway.services.redis.json_safe import plain_payload, to_json


def test_to_json_converts_tuples_and_reprs_what_json_cannot_hold():
    value = {"a": (1, 2), 3: {1.5, 2.5}.__class__.__name__, "f": float("nan"), "o": object}
    converted = to_json(value)
    assert converted["a"] == [1, 2]
    assert converted["3"] == "set"
    assert converted["f"] == "nan"
    assert converted["o"] == repr(object)


def test_timestamps_are_iso_utc_with_z():
    assert format_timestamp(b"2024-01-01T12:00:00.123456Z") == "2024-01-01T12:00:00.123456Z"
    assert format_timestamp(b"2024-01-01T12:00:00Z") == "2024-01-01T12:00:00.000000Z"
    assert format_timestamp(b"2024-01-01T14:00:00+02:00") == "2024-01-01T12:00:00.000000Z"
    assert format_timestamp(b"") is None
    assert format_timestamp(b"not a date") is None


def test_unimportable_class_nulls_only_the_field_that_holds_it(monkeypatch):
    module = types.ModuleType("vanishing_module")
    module.Payload = type("Payload", (), {"__module__": "vanishing_module"})
    monkeypatch.setitem(sys.modules, "vanishing_module", module)
    payload = pickle.dumps(("app.jobs.work", None, (1, module.Payload()), {"ok": True}))
    monkeypatch.delitem(sys.modules, "vanishing_module")
    func_name, args, kwargs = _decode_call(zlib.compress(payload), DefaultSerializer)
    assert func_name == "app.jobs.work"
    assert args is None
    assert kwargs == {"ok": True}


def test_corrupt_data_gives_nulls_not_errors():
    assert _decode_call(b"\x00garbage", DefaultSerializer) == (None, None, None)


def test_an_exception_text_that_is_not_utf8_is_shown_with_backslash_escapes_as_other_fields():
    """README ("bytes that are not UTF-8 are shown with backslash escapes") for the traceback too,
    whether RQ kept it in the job hash (before RQ 2) or in its results stream."""
    text = b"KeyError: caf\xe9"
    hashed = {b"status": b"failed", b"exc_info": zlib.compress(text)}
    legacy = decode_job("j", hashed, None, DefaultSerializer, "q")
    stream_entry = [(b"1-0", {b"type": b"2", b"exc_string": b64encode(zlib.compress(text))})]
    streamed = decode_job("j", {b"status": b"failed"}, stream_entry, DefaultSerializer, "q")
    assert legacy.exc_info == streamed.exc_info == "KeyError: caf\\xe9"


_FIELDS = ("status", "origin", "data", "description", "exc_info")
_field_values = st.one_of(
    st.none(),
    st.just(b""),
    st.binary(max_size=8),
    st.sampled_from(
        [
            b"failed",
            b"finished",
            b"queued",
            b"billing",
            zlib.compress(pickle.dumps(("m.f", None, ("cust-4711", 2), {"k": [1]}))),
            pickle.dumps(("m.f", None, (), {})),
            zlib.compress(b"Traceback\nValueError: boom"),
            "caf\u00e9".encode(),
            b"\xff\xfe",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_FIELDS), min_size=1, max_size=5, unique=True),
    st.data(),
    st.sampled_from(["failed", "created"]),
)
def test_decode_fields_gives_what_decode_job_gives_for_the_same_fields(fields, data, default_status):
    values = [data.draw(_field_values) for _ in fields]
    raw = {name.encode(): value for name, value in zip(fields, values, strict=True) if value}
    expected = decode_job("j1", raw, None, DefaultSerializer, "q", default_status) if raw else None
    got = decode_fields("j1", tuple(fields), values, DefaultSerializer, "q", default_status)
    assert got == expected


def test_an_int_too_long_to_write_is_a_note_of_its_size_and_the_rest_decodes():
    """Python writes no int of more than 4,300 digits as text, so a job whose argument was
    10**5000 failed every page it was on (a 500 from the JSON encoder). Its pickle is longer than
    SMALL_PAYLOAD, so it takes the path that looks at ints; a short payload cannot hold one."""
    big = 10**5000
    call = ("m.f", None, (big, -big, 7, [big]), {"k": big, "n": 1})
    data = zlib.compress(pickle.dumps(call))
    assert not plain_payload(pickle.dumps(call), DefaultSerializer)
    func_name, args, kwargs = _decode_call(data, DefaultSerializer)
    note = "<int of about 5001 digits>"
    assert (func_name, args, kwargs) == ("m.f", [note, note, 7, [note]], {"k": note, "n": 1})
    assert json.dumps([args, kwargs])  # the whole answer renders
    assert to_json(2**64) == 2**64 and to_json({"a": [2**64]}) == {"a": [2**64]}


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_a_lone_surrogate_is_written_as_its_escape_and_its_payload_is_not_plain(protocol):
    """A str may hold a lone surrogate (pickle and JSON carry it; UTF-8 cannot): /jobs/status and
    /search answered 500 for a job whose argument held one. The payload check finds it in every
    pickle protocol, so the fast path, which does not look at strings, never sees it."""
    call = ("m.f\ud800", None, ("a\ud800b",), {"k\udfff": "\udfff"})
    payload = pickle.dumps(call, protocol=protocol)
    assert not plain_payload(payload, DefaultSerializer)
    assert plain_payload(
        pickle.dumps(("m.f", None, ("caf\u00e9", 1), {}), protocol=protocol), DefaultSerializer
    )
    func_name, args, kwargs = _decode_call(zlib.compress(payload), DefaultSerializer)
    assert (func_name, args, kwargs) == ("m.f\\ud800", ["a\\ud800b"], {"k\\udfff": "\\udfff"})
    json.dumps([func_name, args, kwargs], ensure_ascii=False).encode()  # UTF-8 carries it
