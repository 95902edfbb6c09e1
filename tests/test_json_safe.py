"""json_safe.to_json: what JSON can hold of a decoded value, by its general rule and by its fast
path for plain payloads, which must agree on every value the fast path is allowed."""

import math
from collections import OrderedDict
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.services.redis.json_safe import to_json


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
