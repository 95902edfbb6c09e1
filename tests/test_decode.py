import pickle
import sys
import types
import zlib
from base64 import b64encode

from rq.serializers import DefaultSerializer

from gateway.services.redis.decode import _decode_call, decode_job, format_timestamp, to_json


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
