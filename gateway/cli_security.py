"""The security half of the CLI: the secure-by-default start-up rule, the access summary logged at
start-up, and `rq-gateway keys create`."""

from __future__ import annotations

import ipaddress

import click

from gateway.apikeys import ApiKey, KeyConfigError, hash_key, load_keys, new_key, parse_patterns
from gateway.config import Settings
from gateway.services import Role


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def refuse_open_exposure(settings: Settings) -> None:
    """Secure by default: no keys is fine on loopback or in demo mode, otherwise a usage error."""
    host = settings.host
    if settings.api_keys or settings.oidc_issuer or settings.demo or settings.allow_anonymous:
        return  # keys or single sign-on: every request is authenticated
    if is_loopback(host):
        return
    raise click.UsageError(
        f"Refusing to serve {host} without API keys: anyone who can reach it could delete your jobs.\n"
        "Create a key with `rq-gateway keys create --name admin --role admin`, put the printed line in a "
        "file and pass --api-keys-file FILE (or RQ_GATEWAY_API_KEYS_FILE). "
        "To serve without authentication anyway (e.g. behind an authenticating proxy), "
        "pass --allow-anonymous (or RQ_GATEWAY_ALLOW_ANONYMOUS=1)."
    )


def access_summary(settings: Settings) -> str:
    sso = f"; single sign-on with tokens from {settings.oidc_issuer}" if settings.oidc_issuer else ""
    if not settings.api_keys:
        if sso:
            return "No API keys configured" + sso
        return "No API keys configured: every request is served as 'anonymous' with the admin role"
    names = ", ".join(f"{key.name} ({key.role.label})" for key in settings.api_keys)
    return f"{len(settings.api_keys)} API keys configured: {names}{sso}"


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
