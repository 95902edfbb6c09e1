import pickle
import sys
import types
import zlib

from rq.serializers import DefaultSerializer

from gateway.services.redis.decode import _decode_call, format_timestamp, to_json


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
