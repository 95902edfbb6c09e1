"""The security half of the CLI: `serve`'s key, audit and limit options, the secure-by-default
start-up rule, and `rq-gateway keys create`."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from typing import Any

import click

from gateway.apikeys import ApiKey, KeyConfigError, hash_key, load_keys, new_key, parse_patterns
from gateway.config import DEFAULT_AUDIT_MAXLEN, Settings
from gateway.services.access import Role

_DEFAULTS = Settings()

# (option, variable, click keyword arguments). Flags are set by any of 1/true/yes/on.
_OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "--api-keys-file",
        "RQ_GATEWAY_API_KEYS_FILE",
        {
            "type": click.Path(dir_okay=False),
            "help": "File of API keys, one NAME:ROLE:SHA256[:PATTERNS] a line.",
        },
    ),
    ("--api-keys", "RQ_GATEWAY_API_KEYS", {"help": "API keys in the same format, separated by ';'."}),
    (
        "--allow-anonymous",
        "RQ_GATEWAY_ALLOW_ANONYMOUS",
        {"is_flag": True, "help": "Serve without keys on a non-loopback address (anyone may delete jobs)."},
    ),
    (
        "--hide-payloads",
        "RQ_GATEWAY_HIDE_PAYLOADS",
        {
            "is_flag": True,
            "help": "Hide job payloads from viewer keys: args, kwargs and result as null, "
            "description as the bare call, e.g. charge(…).",
        },
    ),
    (
        "--cors-origins",
        "RQ_GATEWAY_CORS_ORIGINS",
        {"help": "Comma-separated browser origins allowed (CORS)."},
    ),
    (
        "--audit-maxlen",
        "RQ_GATEWAY_AUDIT_MAXLEN",
        {
            "type": click.IntRange(min=0),
            "default": DEFAULT_AUDIT_MAXLEN,
            "help": "Entries kept in the Redis audit stream (approximately); 0 = log only.",
        },
    ),
    (
        "--max-body-size",
        "RQ_GATEWAY_MAX_BODY_SIZE",
        {
            "type": click.IntRange(min=1),
            "default": _DEFAULTS.max_body_size,
            "help": "Request body limit, bytes.",
        },
    ),
    (
        "--graphql-max-depth",
        "RQ_GATEWAY_GRAPHQL_MAX_DEPTH",
        {
            "type": click.IntRange(min=1),
            "default": _DEFAULTS.graphql_max_depth,
            "help": "GraphQL query depth.",
        },
    ),
    (
        "--graphql-max-aliases",
        "RQ_GATEWAY_GRAPHQL_MAX_ALIASES",
        {"type": click.IntRange(min=0), "default": _DEFAULTS.graphql_max_aliases, "help": "GraphQL aliases."},
    ),
    (
        "--graphql-max-tokens",
        "RQ_GATEWAY_GRAPHQL_MAX_TOKENS",
        {"type": click.IntRange(min=1), "default": _DEFAULTS.graphql_max_tokens, "help": "GraphQL tokens."},
    ),
    (
        "--graphql-max-cost",
        "RQ_GATEWAY_GRAPHQL_MAX_COST",
        {
            "type": click.IntRange(min=1),
            "default": _DEFAULTS.graphql_max_cost,
            "help": "GraphQL query cost: objects a query may return, heavy fields weighted (README).",
        },
    ),
    (
        "--no-graphiql",
        "RQ_GATEWAY_NO_GRAPHIQL",
        {"is_flag": True, "help": "Do not serve GraphiQL at GET /graphql."},
    ),
    (
        "--no-introspection",
        "RQ_GATEWAY_NO_INTROSPECTION",
        {"is_flag": True, "help": "Refuse GraphQL introspection queries."},
    ),
]


def security_options(command: Callable) -> Callable:
    for option, variable, kwargs in reversed(_OPTIONS):
        show_default = "default" in kwargs
        command = click.option(
            option, envvar=variable, show_envvar=True, show_default=show_default, **kwargs
        )(command)
    return command


def security_settings(options: dict[str, Any]) -> dict[str, Any]:
    """Settings fields from the options; a bad keys file or pattern is a usage error."""
    try:
        keys = load_keys(options["api_keys_file"], options["api_keys"])
    except KeyConfigError as error:
        raise click.BadParameter(str(error), param_hint="--api-keys-file / --api-keys") from None
    origins = tuple(o.strip() for o in (options["cors_origins"] or "").split(",") if o.strip())
    return {
        "api_keys": keys,
        "hide_payloads": options["hide_payloads"],
        "cors_origins": origins,
        "audit_maxlen": options["audit_maxlen"],
        "max_body_size": options["max_body_size"],
        "graphql_max_depth": options["graphql_max_depth"],
        "graphql_max_aliases": options["graphql_max_aliases"],
        "graphql_max_tokens": options["graphql_max_tokens"],
        "graphql_max_cost": options["graphql_max_cost"],
        "graphiql": not options["no_graphiql"],
        "introspection": not options["no_introspection"],
    }


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def refuse_open_exposure(settings: Settings, host: str, allow_anonymous: bool) -> None:
    """Secure by default: no keys is fine on loopback or in demo mode, otherwise a usage error."""
    if settings.api_keys or settings.demo or allow_anonymous or is_loopback(host):
        return
    raise click.UsageError(
        f"Refusing to serve {host} without API keys: anyone who can reach it could delete your jobs.\n"
        "Create a key with `rq-gateway keys create --name admin --role admin`, put the printed line in a "
        "file and pass --api-keys-file FILE (or RQ_GATEWAY_API_KEYS_FILE). "
        "To serve without authentication anyway (e.g. behind an authenticating proxy), "
        "pass --allow-anonymous (or RQ_GATEWAY_ALLOW_ANONYMOUS=1)."
    )


def access_summary(settings: Settings) -> str:
    if not settings.api_keys:
        return "No API keys configured: every request is served as 'anonymous' with the admin role"
    names = ", ".join(f"{key.name} ({key.role.label})" for key in settings.api_keys)
    return f"{len(settings.api_keys)} API keys configured: {names}"


def export_for_workers(settings: Settings) -> None:
    """uvicorn worker processes rebuild Settings from the environment (`settings_from_env`)."""
    os.environ.pop("RQ_GATEWAY_API_KEYS_FILE", None)
    os.environ["RQ_GATEWAY_API_KEYS"] = ";".join(key.line() for key in settings.api_keys)
    os.environ["RQ_GATEWAY_CORS_ORIGINS"] = ",".join(settings.cors_origins)
    for field in (
        "audit_maxlen",
        "max_body_size",
        "graphql_max_depth",
        "graphql_max_aliases",
        "graphql_max_tokens",
        "graphql_max_cost",
    ):
        os.environ[f"RQ_GATEWAY_{field.upper()}"] = str(getattr(settings, field))
    os.environ["RQ_GATEWAY_HIDE_PAYLOADS"] = "1" if settings.hide_payloads else ""
    os.environ["RQ_GATEWAY_NO_GRAPHIQL"] = "" if settings.graphiql else "1"
    os.environ["RQ_GATEWAY_NO_INTROSPECTION"] = "" if settings.introspection else "1"


def security_settings_from_env() -> dict[str, Any]:
    env = os.environ

    def flag(name: str) -> bool:
        return env.get(name, "").lower() in ("1", "true", "yes", "on")

    def number(name: str, default: int) -> int:
        return int(env.get(f"RQ_GATEWAY_{name.upper()}") or default)

    return {
        "api_keys": load_keys(env.get("RQ_GATEWAY_API_KEYS_FILE"), env.get("RQ_GATEWAY_API_KEYS")),
        "hide_payloads": flag("RQ_GATEWAY_HIDE_PAYLOADS"),
        "cors_origins": tuple(o for o in env.get("RQ_GATEWAY_CORS_ORIGINS", "").split(",") if o),
        "audit_maxlen": number("audit_maxlen", _DEFAULTS.audit_maxlen),
        "max_body_size": number("max_body_size", _DEFAULTS.max_body_size),
        "graphql_max_depth": number("graphql_max_depth", _DEFAULTS.graphql_max_depth),
        "graphql_max_aliases": number("graphql_max_aliases", _DEFAULTS.graphql_max_aliases),
        "graphql_max_tokens": number("graphql_max_tokens", _DEFAULTS.graphql_max_tokens),
        "graphql_max_cost": number("graphql_max_cost", _DEFAULTS.graphql_max_cost),
        "graphiql": not flag("RQ_GATEWAY_NO_GRAPHIQL"),
        "introspection": not flag("RQ_GATEWAY_NO_INTROSPECTION"),
    }


@click.group()
def keys() -> None:
    """Manage API keys."""


def _patterns(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...]:
    try:
        return parse_patterns(value or "")
    except KeyConfigError as error:
        raise click.BadParameter(str(error)) from None


@keys.command("create", short_help="Print a new API key and its keys-file line.")
@click.option("--name", required=True, help="Shown in the audit trail, e.g. ci-dashboard.")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.label for role in Role]),
    help="viewer reads; operator also retries, cancels and requeues; admin also deletes.",
)
@click.option("--queues", callback=_patterns, help="Comma-separated queue-name patterns, e.g. 'billing-*'.")
def create_key(name: str, role: str, queues: tuple[str, ...]) -> None:
    """Print a new random key (once: it is not stored anywhere) and the line to configure it."""
    key = new_key()
    entry = ApiKey(name=name, role=Role[role.upper()], digest=hash_key(key), queues=queues)
    try:  # the same checks as at start-up, so the printed line is always accepted
        (parsed,) = load_keys(None, entry.line())
    except KeyConfigError as error:
        raise click.BadParameter(str(error).split(": ", 1)[-1], param_hint="--name") from None
    click.echo(f"API key for {parsed.name} (shown once; give it to the client, then forget it):")
    click.echo(key)
    click.echo("Add this line to your keys file (--api-keys-file / RQ_GATEWAY_API_KEYS_FILE):")
    click.echo(parsed.line())
