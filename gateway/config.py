"""Settings, read from one place, and the Redis connection.

`Settings()` reads each field from its environment variable (RQ_GATEWAY_<FIELD>, and REDIS_URL for
the URL) and validates it; keyword arguments override the environment. The CLI passes only the
options given on its command line, and uvicorn worker processes call `Settings()` on the variables
the parent exported with `export_environment`, so every process sees the same settings."""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AliasGenerator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from gateway.apikeys import KeyConfigError, load_keys
from gateway.logs import LOG_FORMATS, LogFormat
from gateway.setting_kinds import (
    KEYS_FILE,
    QUEUE_NAME,
    SERIALIZER,
    ApiKeys,
    Origins,
    RedisInstances,
    Sentinels,
    flag,
    seconds,
    setting,
    whole,
)

ENV_PREFIX = "RQ_GATEWAY_"
DEFAULT_QUEUE = "default"
DEFAULT_AUDIT_MAXLEN = 10_000
LogLevel = Literal["critical", "error", "warning", "info", "debug"]
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)


def _config_file(path: str | None) -> str | None:
    """Read and parse now, so that a bad file is refused under its own name (as the keys file)."""
    from gateway.settings_file import SettingsFileError, read_settings_file

    if path is not None:
        try:
            read_settings_file(path, {field: env_name(field) for field in Settings.model_fields})
        except SettingsFileError as error:
            raise ValueError(str(error)) from None
    return path


def _settings_file(init: InitSettingsSource) -> str | None:
    """The --config file of this construction: the keyword (the CLI option), else the variable."""
    variable = f"{ENV_PREFIX}CONFIG"
    return init.init_kwargs.get(variable) or os.environ.get(variable) or None


class Settings(BaseSettings):
    """Every setting of `rq-gateway serve`; each has an option, a variable and a README row."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        # Exactly the documented names: RQ_GATEWAY_PORT, not rq_gateway_port.
        case_sensitive=True,
        alias_generator=AliasGenerator(validation_alias=lambda name: f"{ENV_PREFIX}{name.upper()}"),
        populate_by_name=True,
        # An empty variable counts as unset, as it always has.
        env_ignore_empty=True,
    )

    # Settings from a TOML or JSON file (gateway/settings_file.py), below the variables and options.
    # Not handed to worker processes: they get every value the file gave as its variable.
    config: Annotated[str | None, AfterValidator(_config_file)] = Field(None, exclude=True)
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    # Production topologies (README "Deployment"): Sentinel instead of a URL, and TLS files.
    # They are checked together, once all are read (_check_topology).
    redis_sentinel: Sentinels = ()
    redis_master_name: str | None = None
    redis_sentinel_password: str | None = None
    redis_ca_file: str | None = None
    redis_cert_file: str | None = None
    redis_key_file: str | None = None
    # More Redis instances, NAME=URL (gateway/redis_instances.py); the default is --redis-url.
    redis_instances: RedisInstances = ()
    host: str = "127.0.0.1"
    port: int = setting(8000, "a TCP port number, 0-65535", ge=0, le=65535)
    workers: int = whole(1, 1)
    default_queue: Annotated[str, QUEUE_NAME] = DEFAULT_QUEUE
    # Seconds one Redis command may take. redis-py retries multiply it: we allow one retry on a
    # dropped connection (so a restarted Redis is picked up silently), giving a bound of about
    # 2 x (connect + socket) timeouts, well inside the 10 s a client should wait for a 503.
    redis_timeout: float = seconds(2.5)
    redis_connect_timeout: float = seconds(1.5)
    serializer: Annotated[str | None, SERIALIZER] = None
    log_level: LogLevel = setting("info", "one of " + ", ".join(LOG_LEVELS))
    # Security (see README "Security"). No keys = anonymous; the CLI allows that only on loopback,
    # in demo mode or with --allow-anonymous. The file is read into api_keys, which is what the
    # worker processes get: they do not read the file again.
    api_keys_file: Annotated[str | None, KEYS_FILE] = Field(None, exclude=True)
    api_keys: ApiKeys = Field((), validate_default=True)
    allow_anonymous: bool = flag()
    # Single sign-on (gateway/oidc.py): bearer JWTs from this issuer, next to the API keys.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_role_claim: str = "roles"
    oidc_roles: str | None = None
    oidc_algorithms: Origins = ("RS256", "ES256")
    # The console's sign-in through that issuer (gateway/console_sign_on.py): its public client.
    oidc_client_id: str | None = None
    oidc_scopes: str = "openid profile"
    hide_payloads: bool = flag()
    # Jobs one search request examines at most (README "Search"); it answers a cursor to go on.
    search_scan_limit: int = whole(100_000, 1)
    cors_origins: Origins = ()
    audit_maxlen: int = whole(DEFAULT_AUDIT_MAXLEN, 0)
    max_body_size: int = whole(1_048_576, 1)
    graphql_max_depth: int = whole(10, 1)
    graphql_max_aliases: int = whole(30, 0)
    graphql_max_tokens: int = whole(2000, 1)
    # See gateway/graphql/cost.py: one page of 1000 jobs with every field is about 36,000.
    graphql_max_cost: int = whole(40_000, 1)
    no_graphiql: bool = flag()
    no_introspection: bool = flag()
    no_ui: bool = flag()
    # Tracked operations (services/operations/pacing.py): jobs examined per second, 0 = uncapped.
    bulk_max_rate: float = setting(
        0.0, "a number of jobs per second, 0 for no cap", ge=0, allow_inf_nan=False
    )
    # GraphQL subscriptions (README "Subscriptions"): the bounds of gateway/live, per process.
    max_websocket_connections: int = whole(1000, 1)
    max_subscriptions_per_connection: int = whole(100, 1)
    # Issue 12: monitoring (README "Monitoring").
    log_format: LogFormat = setting("text", "one of " + ", ".join(LOG_FORMATS))
    metrics_public: bool = flag()
    # Queue history (README "Queue history"): kept this long; one writer samples every interval,
    # chosen by a Redis lease of this length. The interval is capped so a failure shows in its
    # minute within 30 s.
    history_retention: int = whole(86_400, 60)
    history_interval: float = setting(
        10.0, "a number of seconds, at most 15", gt=0, le=15, allow_inf_nan=False
    )
    history_lease: float = seconds(30.0)
    # Off: this process never samples (for a read-only ACL user, or a gateway that must send
    # Redis no command while idle); other processes may still write the history.
    no_history: bool = flag()

    def __init__(self, **values: Any) -> None:
        # Keywords are passed on under the variables' names: pydantic-settings 2.7 takes a
        # field name given next to its set variable for an unknown extra input.
        super().__init__(**_by_variable(values))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Options (keywords) over variables over the --config file."""
        from gateway.settings_file import SettingsFile

        assert isinstance(init_settings, InitSettingsSource)
        path = _settings_file(init_settings)
        if path is None:
            return init_settings, env_settings
        variables = {field: env_name(field) for field in cls.model_fields}
        return init_settings, env_settings, SettingsFile(settings_cls, path, variables)

    @model_validator(mode="before")
    @classmethod
    def _keyed_by_variable(cls, data: Any) -> Any:
        """The same for `Settings.model_validate({...})`, which does not go through __init__."""
        return _by_variable(data) if isinstance(data, dict) else data

    @field_validator("api_keys", mode="before")
    @classmethod
    def _load_api_keys(cls, value: Any, info: ValidationInfo) -> Any:
        """Keys from the file, then from the variable's text (or the keys given in code)."""
        text = value if isinstance(value, str) else None
        try:
            keys = load_keys(info.data.get("api_keys_file"), text)
        except KeyConfigError as error:
            raise ValueError(str(error)) from None
        return keys if text is not None else (*keys, *value)

    @model_validator(mode="after")
    def _check_topology(self) -> Settings:
        """Sentinel and TLS settings are checked together, once all are read (redis_settings.py)."""
        from gateway.redis_settings import check_topology

        check_topology(self)
        return self

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        from gateway import console_sign_on, oidc

        oidc.check_settings(self)
        console_sign_on.check_settings(self)
        return self

    @property
    def demo(self) -> bool:
        return not (self.redis_url or self.redis_sentinel or self.redis_instances)

    @property
    def graphiql(self) -> bool:
        return not self.no_graphiql

    @property
    def introspection(self) -> bool:
        return not self.no_introspection

    @property
    def ui(self) -> bool:
        return not self.no_ui


def _by_variable(values: dict[str, Any]) -> dict[str, Any]:
    """Field names as their variables' names. `graphiql=False` reads better in code than
    `no_graphiql=True`, so both work."""
    renamed = {}
    for key, value in values.items():
        if key in ("graphiql", "introspection", "ui"):
            key, value = f"no_{key}", not value
        renamed[env_name(key) if key in Settings.model_fields else key] = value
    return renamed


def env_name(field: str) -> str:
    """The variable a field is read from."""
    return str(Settings.model_fields[field].validation_alias)


def expected_form(field: str) -> str:
    extra = Settings.model_fields[field].json_schema_extra
    return str(extra["expected"]) if isinstance(extra, dict) else "a valid value"


def environment(settings: Settings) -> dict[str, str | None]:
    """Every field as its variable, written so that `Settings()` reads the same value back.
    None means unset: a field that is None, or one (the keys file) already folded into another."""
    dumped = settings.model_dump(mode="json")
    variables: dict[str, str | None] = {}
    for field in Settings.model_fields:
        value = dumped.get(field)
        if isinstance(value, bool):
            value = "true" if value else "false"
        variables[env_name(field)] = None if value is None else str(value)
    return variables


def export_environment(settings: Settings, environ: MutableMapping[str, str] = os.environ) -> None:
    """Hand the effective settings to uvicorn's worker processes, which call `Settings()`."""
    for name, value in environment(settings).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value


def describe_refusal(error: ValidationError, names: Mapping[str, str]) -> str:
    """One line per refused value: its option or variable, the value, and the form expected.
    `names` gives the option for fields that came from the command line."""
    by_alias = {env_name(field): field for field in Settings.model_fields}
    lines = []
    for problem in error.errors():
        key = str(problem["loc"][0]) if problem["loc"] else ""
        field = by_alias.get(key, key)
        name = names.get(field) or (env_name(field) if field in Settings.model_fields else field)
        if problem["type"] == "value_error":
            # Our own checks: the message names the value where that is safe (never an API key).
            message = str(problem.get("ctx", {})["error"])
            lines.append(message if message.startswith(name) else f"{name}: {message}")
        elif problem["type"] == "extra_forbidden":
            lines.append(f"{name}: not a setting")
        else:
            lines.append(f"{name}={problem['input']}: expected {expected_form(field)}")
    return "\n".join(lines)
