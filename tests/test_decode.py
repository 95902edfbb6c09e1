import json
import math
import pickle
import sys
import types
import zlib
from base64 import b64encode
from collections import OrderedDict
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rq.serializers import DefaultSerializer

from gateway.services.redis.decode import (
    _decode_call,
    decode_fields,
    decode_job,
    format_timestamp,
    plain_payload,
    to_json,
)


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


# to_json's general rule, spelled out: the fast path must give the same answer for every value
# it is allowed (plain), to the type (True is not 1, a list is not a tuple).
def _reference_to_json(value, depth=0):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        escaped = value.encode("utf-8", "backslashreplace").decode()
        return value if escaped == value else escaped
    if isinstance(value, int):
        if value.bit_length() <= 4300 * 3.3 - 8:  # fewer than 4,300 digits, the most Python writes
            return value
        return f"<int of about {int(value.bit_length() * 0.30103) + 1} digits>"
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth >= 64 and isinstance(value, (list, tuple, dict)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [_reference_to_json(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {
            _reference_to_json(k) if isinstance(k, str) else repr(k): _reference_to_json(v, depth + 1)
            for k, v in value.items()
        }
    return repr(value)


def _plain(value) -> bool:
    """Whether a payload holding `value` could pass plain_payload: no lone surrogate, no long int."""
    if isinstance(value, str):
        return value == value.encode("utf-8", "backslashreplace").decode()
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() < 10_000
    if isinstance(value, (list, tuple)):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return True


class _Text(str):
    pass


class _Number(int):
    pass


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=5),
    st.builds(_Text, st.text(max_size=3)),
    st.builds(_Number, st.integers()),
    st.binary(max_size=3),
    st.sampled_from([datetime(2026, 1, 2), Decimal("1.5"), {1, 2}, "a\ud800", "\udfff"]),
    # Ints of more digits than Python writes (built lazily: their repr would fail too).
    st.sampled_from([5000, 4300, 4215]).map(lambda digits: 10**digits),
    st.sampled_from([5000, 4300]).map(lambda digits: -(10**digits)),
)
_keys = st.one_of(st.text(max_size=3), st.integers(), st.booleans(), st.none())
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(_keys, inner, max_size=4),
        st.dictionaries(st.text(max_size=3), inner, max_size=4).map(OrderedDict),
    ),
    max_leaves=12,
)


def _typed(value):
    """The value with every type spelled out, so True and 1, or [] and (), compare unequal."""
    if isinstance(value, list):
        return ("list", [_typed(item) for item in value])
    if isinstance(value, dict):
        return (type(value).__name__, [(_typed(k), _typed(v)) for k, v in value.items()])
    return (type(value).__name__, repr(value))


@settings(max_examples=400, deadline=None)
@given(_values)
def test_to_json_gives_every_value_what_the_general_rule_gives(value):
    assert _typed(to_json(value)) == _typed(_reference_to_json(value))
    if _plain(value):
        assert _typed(to_json(value, plain=True)) == _typed(_reference_to_json(value))


@pytest.mark.parametrize("flat", [["leaf", 1], {"leaf": 1}])
@pytest.mark.parametrize("levels", range(60, 68))
def test_to_json_reprs_a_flat_container_nested_too_deep_as_the_general_rule_does(flat, levels):
    deep = flat
    for _ in range(levels):
        deep = [deep]
    assert _typed(to_json(deep, plain=True)) == _typed(_reference_to_json(deep))


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
