"""`--config FILE` (RQ_GATEWAY_CONFIG): settings from a TOML or JSON file, as one more
pydantic-settings source (Settings.settings_customise_sources puts it below the environment and
the options, so they override it key by key). The file is parsed by the standard library's
tomllib (tomli before 3.11) or json, as pydantic-settings' own file sources do. The file's keys
are the settings' names (`redis_timeout`, or `redis-timeout` as the option says it),
`redis_instances` a table of NAME = URL or NAME = {url or sentinel, TLS files} (see
gateway/redis_instances.py).

A file that is missing, unreadable, not TOML/JSON, or holds a key that is no setting is refused
at start-up with a SettingsFileError naming the file and the problem, never a traceback."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the CI runs 3.11+
    import tomli as tomllib  # pyright: ignore[reportMissingImports]  -- only installed before 3.11


def _toml(path: Path) -> Any:
    with path.open("rb") as file:
        return tomllib.load(file)


def _json(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return json.load(file)


PARSERS = {".toml": ("TOML", _toml), ".json": ("JSON", _json)}
# Settings a file may not hold: the file itself.
NOT_IN_FILE = frozenset({"config"})


class SettingsFileError(ValueError):
    """The settings file cannot be used; the message names it and says why."""


class SettingsFile(PydanticBaseSettingsSource):
    """The file's settings, keyed as Settings reads them (by variable name), so that a variable or
    an option for the same setting replaces the file's value rather than sitting next to it."""

    def __init__(self, settings_cls: type[BaseSettings], path: str, variable_of: dict[str, str]):
        super().__init__(settings_cls)
        try:
            self.values = read_settings_file(path, variable_of)
        except SettingsFileError:
            # Refused by the `config` field's own check, under its option's or variable's name
            # (an error raised here would name no setting).
            self.values = {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ answers for every field at once

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


def read_settings_file(path: str, variable_of: dict[str, str]) -> dict[str, Any]:
    """{variable name: value} of the file's settings; SettingsFileError when it cannot be used."""
    kind, parse = PARSERS.get(Path(path).suffix.lower(), (None, None))
    if parse is None:
        raise SettingsFileError(f"{path}: expected a .toml or .json settings file")
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise SettingsFileError(f"{path}: not a readable file")
    try:
        data = parse(Path(path))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SettingsFileError(f"{path}: not valid {kind}: {error}") from None
    except OSError as error:
        raise SettingsFileError(f"{path}: cannot be read: {error.strerror or error}") from None
    if not isinstance(data, dict):
        raise SettingsFileError(f"{path}: expected a table (object) of settings at the top")
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in variable_of or name in NOT_IN_FILE:
            raise SettingsFileError(
                f"{path}: {key!r} is not a setting (the names are those of `rq-gateway serve --help`, "
                "e.g. redis_url or redis-url)"
            )
        values[variable_of[name]] = value
    return values
