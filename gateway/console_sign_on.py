"""The console's single sign-on: what the page needs to run the OpenID Connect authorization-code
flow with PKCE in the browser (gateway/static/console/oidc.js), as a public client of
--oidc-issuer with --oidc-client-id (README "Single sign-on").

The gateway takes no part in the flow: it holds no client secret and no session, and the token
the browser ends with is checked like any other bearer (gateway/oidc.py). Which token the console
sends follows from --oidc-audience: an ID token's `aud` is the client id, so when the audience is
the client id the console sends the ID token; otherwise the issuer must issue JWT access tokens
for that audience, and the console sends the access token.

The page's Content-Security-Policy gains the issuer's origin in connect-src (discovery and the
token request are fetches), and only when the console signs in this way."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ConsoleSignOn:
    issuer: str
    client_id: str
    scopes: str
    token: str  # "id_token" or "access_token": the one the gateway will accept

    @property
    def origin(self) -> str:
        scheme, netloc = urlsplit(self.issuer)[:2]
        return f"{scheme}://{netloc}"

    def page_attributes(self) -> str:
        """data-* attributes of the console's #app element, read by oidc.js (no inline script)."""
        values = {
            "oidc-issuer": self.issuer,
            "oidc-client-id": self.client_id,
            "oidc-scopes": self.scopes,
            "oidc-token": self.token,
        }
        return "".join(f' data-{name}="{escape(value)}"' for name, value in values.items())


def check_settings(settings: Any) -> None:
    """ValueError naming the options, for console sign-on settings that cannot work."""
    if not settings.oidc_client_id:
        return
    if not settings.oidc_issuer:
        raise ValueError(
            "--oidc-client-id (RQ_GATEWAY_OIDC_CLIENT_ID) needs --oidc-issuer, --oidc-audience "
            "and --oidc-roles: the console signs in with the issuer whose tokens the gateway checks"
        )
    if urlsplit(settings.oidc_issuer).scheme not in ("http", "https"):
        raise ValueError("--oidc-issuer (RQ_GATEWAY_OIDC_ISSUER): the console needs an http(s) URL")
    if "openid" not in settings.oidc_scopes.split():
        raise ValueError(
            "--oidc-scopes (RQ_GATEWAY_OIDC_SCOPES): must hold openid (the console checks the "
            "ID token's nonce)"
        )


def sign_on_of(settings: Any) -> ConsoleSignOn | None:
    if not (settings.oidc_client_id and settings.oidc_issuer):
        return None
    token = "id_token" if settings.oidc_audience == settings.oidc_client_id else "access_token"
    return ConsoleSignOn(settings.oidc_issuer, settings.oidc_client_id, settings.oidc_scopes, token)
