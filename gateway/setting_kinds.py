"""The kinds of value a setting takes (gateway/config.py's fields): a number with its bounds, a flag,
a queue name, a comma list, the keys file; each refusal says what was expected, and each list
type serializes back to the text it was read from (config.export_environment)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer
from pydantic_settings import NoDecode

from gateway.apikeys import ApiKey, KeyConfigError, load_keys
from gateway.errors import InvalidParameter
from gateway.redis_instances import parse_instances, serialize_instances

_BOOLEAN = "1, true, yes or on (or 0, false, no, off)"


def setting(default: Any, expected: str, **constraints: Any) -> Any:
    """A field whose refusal says `expected` (e.g. "a number of seconds")."""
    return Field(default, json_schema_extra={"expected": expected}, **constraints)


def whole(default: int, least: int) -> Any:
    return setting(default, f"a whole number, at least {least}", ge=least)


def seconds(default: float) -> Any:
    return setting(default, "a number of seconds", gt=0, allow_inf_nan=False)


def flag() -> Any:
    return setting(False, _BOOLEAN)


def _queue_name(name: str) -> str:
    from gateway.services import validate_queue_name

    try:
        return validate_queue_name(name)
    except InvalidParameter as error:
        raise ValueError(error.message) from None


def _serializer(path: str | None) -> str | None:
    from gateway.services import validate_serializer

    try:
        return validate_serializer(path)
    except InvalidParameter as error:
        raise ValueError(error.message) from None


def _keys_file(path: str | None) -> str | None:
    """Read and parse now, so that a bad file is refused under its own name."""
    try:
        load_keys(path, None)
    except KeyConfigError as error:
        raise ValueError(str(error)) from None
    return path


def _sentinels(hosts: tuple[str, ...]) -> tuple[str, ...]:
    from gateway.services import parse_sentinels

    try:
        return tuple(f"{host}:{port}" for host, port in parse_sentinels(",".join(hosts))) if hosts else ()
    except InvalidParameter as error:
        raise ValueError(error.message) from None


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


# Each list type pairs its parser with the serializer `export_environment` uses, so a value
# written for the worker processes always reads back as itself. NoDecode: not JSON.
Origins = Annotated[
    tuple[str, ...], NoDecode, BeforeValidator(_comma_list), PlainSerializer(",".join, when_used="json")
]
Sentinels = Annotated[
    tuple[str, ...],
    NoDecode,
    BeforeValidator(_comma_list),
    AfterValidator(_sentinels),
    PlainSerializer(",".join, when_used="json"),
]
RedisInstances = Annotated[
    tuple[str, ...],
    NoDecode,
    BeforeValidator(lambda value: parse_instances(value) if value else ()),
    PlainSerializer(serialize_instances, when_used="json"),
]
ApiKeys = Annotated[
    tuple[ApiKey, ...],
    NoDecode,
    PlainSerializer(lambda keys: ";".join(key.line() for key in keys), when_used="json"),
]


QUEUE_NAME = AfterValidator(_queue_name)
SERIALIZER = AfterValidator(_serializer)
KEYS_FILE = AfterValidator(_keys_file)
