"""`serve`'s options: one per Settings field, named after it, overriding its environment variable.

The options only carry what the command line says. Reading the variables, defaults and checks
are all Settings' (gateway/config.py), so a value is parsed the same way whichever way it came."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
from click.core import ParameterSource
from pydantic import ValidationError

from gateway.config import LOG_LEVELS, Settings, describe_refusal, env_name
from gateway.logs import LOG_FORMATS
from gateway.settings_file import SettingsFileError, read_settings_file

# Per field: click's type and help. "show_default" shows the Settings default in --help; flags
# are off by default. The order is the order of `rq-gateway serve --help`.
OPTIONS: dict[str, dict[str, Any]] = {
    "config": {
        "type": click.Path(dir_okay=False),
        "help": "Settings file (.toml or .json) with these settings by name, e.g. "
        'redis_instances = { billing = "redis://..." }; variables and options override it.',
    },
    "redis_url": {
        "help": "Redis of your RQ deployment, e.g. redis://localhost:6379/0. "
        "Without it the gateway runs in demo mode on an embedded in-memory Redis.",
    },
    "redis_sentinel": {
        "help": "Sentinels to ask for the master, host:port[,host:port...], instead of --redis-url "
        "(or REDIS_URL=redis+sentinel://host:port,.../MASTER/DB).",
    },
    "redis_master_name": {"help": "Name of the master the sentinels monitor (with --redis-sentinel)."},
    "redis_sentinel_password": {"help": "Password of the sentinels themselves, if they require one."},
    "redis_ca_file": {
        "type": click.Path(dir_okay=False),
        "help": "CA certificates (PEM) that Redis' TLS certificate must chain to (rediss:// URLs).",
    },
    "redis_cert_file": {
        "type": click.Path(dir_okay=False),
        "help": "Client certificate (PEM) for mutual TLS, with --redis-key-file.",
    },
    "redis_key_file": {
        "type": click.Path(dir_okay=False),
        "help": "Private key (PEM) of --redis-cert-file.",
    },
    "redis_instances": {
        "also": ("--redis",),
        "multiple": True,
        "help": "Another Redis instance, NAME=URL (repeatable), reached with ?instance=NAME and "
        "GraphQL instance(name:). The default instance is --redis-url's (named default), "
        "else the first of these.",
    },
    "host": {
        "show_default": True,
        "help": "Interface to listen on; 0.0.0.0 for every interface (then API keys are required).",
    },
    "port": {"type": int, "show_default": True, "help": "TCP port to listen on."},
    "workers": {
        "type": click.IntRange(min=1),
        "show_default": True,
        "help": "uvicorn worker processes (1 in demo mode).",
    },
    "default_queue": {"show_default": True, "help": "Queue used when a request names none."},
    "redis_timeout": {"type": float, "show_default": True, "help": "Seconds one Redis command may take."},
    "redis_connect_timeout": {
        "type": float,
        "show_default": True,
        "help": "Seconds connecting to Redis may take.",
    },
    "serializer": {
        "help": "Serializer of your RQ jobs, as for `rq worker --serializer` (default: RQ's pickle).",
    },
    "log_level": {
        "type": click.Choice(LOG_LEVELS),
        "show_default": True,
        "help": "Least severe log messages shown, for the gateway and uvicorn.",
    },
    "api_keys_file": {
        "type": click.Path(dir_okay=False),
        "help": "File of API keys, one NAME:ROLE:SHA256[:PATTERNS] a line.",
    },
    "api_keys": {"help": "API keys in the same format, separated by ';'."},
    "allow_anonymous": {
        "is_flag": True,
        "help": "Serve without keys on a non-loopback address (anyone may delete jobs).",
    },
    "oidc_issuer": {
        "help": "OpenID Connect issuer whose bearer JWTs are accepted next to API keys "
        "(its discovery document gives the JWKS).",
    },
    "oidc_audience": {"help": "The `aud` the tokens must carry (with --oidc-issuer)."},
    "oidc_role_claim": {"show_default": True, "help": "Claim holding the token's groups or roles."},
    "oidc_roles": {
        "help": "Claim values to roles, VALUE=ROLE[:PATTERNS] separated by ';', "
        "e.g. rq-admins=admin;billing=operator:billing-*.",
    },
    "oidc_algorithms": {
        "show_default": True,
        "help": "Signature algorithms accepted, comma-separated (asymmetric only; never none).",
    },
    "oidc_client_id": {
        "help": "Public client id the console signs people in with (authorization code + PKCE, "
        "with --oidc-issuer); without it the console asks for API keys only.",
    },
    "oidc_scopes": {"show_default": True, "help": "Scopes the console asks the issuer for."},
    "hide_payloads": {
        "is_flag": True,
        "help": "Hide job payloads from viewer keys: args, kwargs and result as null, "
        "description as the bare call, e.g. charge(…).",
    },
    "search_scan_limit": {
        "type": click.IntRange(min=1),
        "show_default": True,
        "help": "Jobs one search request examines at most; the answer gives a cursor to go on.",
    },
    "cors_origins": {"help": "Comma-separated browser origins allowed (CORS)."},
    "audit_maxlen": {
        "type": click.IntRange(min=0),
        "show_default": True,
        "help": "Entries kept in the Redis audit stream (approximately); 0 = log only.",
    },
    "max_body_size": {
        "type": click.IntRange(min=1),
        "show_default": True,
        "help": "Request body limit, bytes.",
    },
    "graphql_max_depth": {
        "type": click.IntRange(min=1),
        "show_default": True,
        "help": "GraphQL query depth.",
    },
    "graphql_max_aliases": {"type": click.IntRange(min=0), "show_default": True, "help": "GraphQL aliases."},
    "graphql_max_tokens": {"type": click.IntRange(min=1), "show_default": True, "help": "GraphQL tokens."},
    "graphql_max_cost": {
        "type": click.IntRange(min=1),
        "show_default": True,
        "help": "GraphQL query cost: objects a query may return, heavy fields weighted (README).",
    },
    "no_graphiql": {"is_flag": True, "help": "Do not serve GraphiQL at GET /graphql."},
    "no_introspection": {"is_flag": True, "help": "Refuse GraphQL introspection queries."},
    "no_ui": {"is_flag": True, "help": "Do not serve the console at /; / then redirects to /docs."},
    "bulk_max_rate": {
        "type": click.FloatRange(min=0),
        "show_default": True,
        "help": "Jobs per second one tracked operation may examine, selected or not; 0 = no cap.",
    },
    "max_websocket_connections": {
        "type": click.IntRange(min=1),
        "show_default": True,
        "help": "Websocket connections (GraphQL subscriptions) per process; past it, closed with 1013.",
    },
    "max_subscriptions_per_connection": {
        "type": click.IntRange(min=1),
        "show_default": True,
        "help": "Active GraphQL subscriptions per websocket connection; past it, LIMIT_EXCEEDED.",
    },
    "log_format": {
        "type": click.Choice(LOG_FORMATS),
        "show_default": True,
        "help": "text, or json: one JSON object a line, with the request id and the key name.",
    },
    "metrics_public": {
        "is_flag": True,
        "help": "Serve GET /metrics without an API key (by default any valid key may read it).",
    },
    "history_retention": {
        "type": click.IntRange(min=60),
        "show_default": True,
        "help": "Seconds of per-minute queue history kept in Redis (86400 = 24 hours).",
    },
    "history_interval": {
        "type": float,
        "show_default": True,
        "help": "Seconds between history samples (at most 15).",
    },
    "no_history": {
        "is_flag": True,
        "help": "Do not sample the queue history in this process (reads still work).",
    },
    "history_lease": {
        "type": float,
        "show_default": True,
        "help": "Seconds of the Redis lease that picks the one history writer; another "
        "process takes over within two of them when the writer dies.",
    },
}


class SettingOption(click.Option):
    """Shows its variable in --help, but leaves reading it to Settings: click would parse it
    differently (its own booleans, its own messages) and only in the parent process."""

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        return None


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def settings_options(command: Callable) -> Callable:
    """Decorate `serve` with an option per Settings field."""
    for field, spec in reversed(OPTIONS.items()):
        kwargs = dict(spec)
        also = kwargs.pop("also", ())
        if kwargs.get("show_default"):
            kwargs["default"] = Settings.model_fields[field].default
        command = click.option(
            option_name(field),
            *also,
            field,
            cls=SettingOption,
            envvar=env_name(field),
            show_envvar=True,
            **kwargs,
        )(command)
    return command


def settings_from_options(ctx: click.Context, values: dict[str, Any]) -> Settings:
    """Settings from the environment, overridden by the options given on the command line.
    A refused value is a usage error that names the option or variable and the form expected."""
    given = {
        field: value
        for field, value in values.items()
        if ctx.get_parameter_source(field) is ParameterSource.COMMANDLINE
    }
    if "redis_instances" in given and not given["redis_instances"]:
        del given["redis_instances"]  # click passes () for a repeatable option not given
    try:
        return Settings(**given)
    except ValidationError as error:
        names = {**_from_file(given), **{field: option_name(field) for field in given}}
        raise click.UsageError(describe_refusal(error, names)) from None


def _from_file(given: dict[str, Any]) -> dict[str, str]:
    """The settings whose refused value came from the --config file, named as `FILE: field`."""
    path = given.get("config") or os.environ.get(env_name("config"))
    if not path:
        return {}
    variables = {field: env_name(field) for field in Settings.model_fields}
    try:
        in_file = read_settings_file(path, variables)
    except SettingsFileError:
        return {}  # the refusal is the file's own
    return {
        field: f"{path}: {field}"
        for field, variable in variables.items()
        if variable in in_file and not os.environ.get(variable)
    }
