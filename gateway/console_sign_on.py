"""The console's single sign-on: what the page needs to run the OpenID Connect authorization-code
flow with PKCE in the browser (gateway/static/console/oidc.js), as a public client of
--oidc-issuer with --oidc-client-id (README "Single sign-on").

The gateway takes no part in the flow: it holds no client secret and no session, and the token
the browser ends with is checked like any other bearer (gateway/oidc.py). Which token the console
sends follows from --oidc-audience: an ID token's `aud` is the client id, so when the audience is
the client id the console sends the ID token; otherwise the issuer must issue JWT access tokens
for that audience, and the console sends the access token.

The page's Content-Security-Policy gains, in connect-src and only when the console signs in this
way, the origins the browser fetches from: the issuer's (its discovery document) and its token
endpoint's, which many providers serve from another host (Google's is oauth2.googleapis.com,
Cognito's the user pool's domain). The gateway reads the token endpoint from the same discovery
document (ProviderOrigins), once; when it cannot, the page allows the issuer's origin alone and
the gateway tries again on a later page load."""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit

from gateway.oidc import discovery_url, fetch_json

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0  # after a failed discovery, a page load waits this long before the next try


@dataclass(frozen=True)
class ConsoleSignOn:
    issuer: str
    client_id: str
    scopes: str
    token: str  # "id_token" or "access_token": the one the gateway will accept

    @property
    def origin(self) -> str:
        return csp_origin(self.issuer)  # check_settings refused an issuer it cannot write

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
    try:
        csp_origin(settings.oidc_issuer)  # the page's Content-Security-Policy names its origin
    except ValueError:
        raise ValueError(
            "--oidc-issuer (RQ_GATEWAY_OIDC_ISSUER): the console needs an http(s) URL with a plain "
            "host (no user or password)"
        ) from None
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


# A host as it may stand in a Content-Security-Policy source: DNS labels, an IPv4 address, or an
# IPv6 literal in brackets; anything else (`;`, spaces, quotes) could end the directive.
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")


def csp_origin(url: str) -> str:
    """The origin of an http(s) URL as a CSP source, rebuilt from its parts; ValueError for one
    that cannot be written safely into the header (the URL comes from the issuer's document)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    else:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    if parts.scheme not in ("http", "https") or parts.username or parts.password or not _HOST.fullmatch(host):
        raise ValueError(f"{url!r} is not an http(s) URL with a plain host")
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{host}{port}"


class ProviderOrigins:
    """The origins the console page fetches from: the issuer's, and its token endpoint's from the
    discovery document, fetched once (after a failure, again at most every RETRY_SECONDS). While
    one request fetches, others answer the issuer's origin alone instead of waiting."""

    def __init__(self, sign_on: ConsoleSignOn, timeout: float = 5.0, clock=time.monotonic):
        self._sign_on = sign_on
        self._timeout = timeout
        self._clock = clock
        self.found: tuple[str, ...] | None = None
        self._tried_at = -RETRY_SECONDS
        self._lock = threading.Lock()

    def get(self) -> tuple[str, ...]:
        """Blocks on a fetch (the first call, a retry): call it off the event loop, or read
        `found` first."""
        if self.found is None and self._lock.acquire(blocking=False):
            try:
                if self.found is None and self._clock() - self._tried_at >= RETRY_SECONDS:
                    self._tried_at = self._clock()
                    self.found = self._discover()
            finally:
                self._lock.release()
        return self.found or (self._sign_on.origin,)

    def _discover(self) -> tuple[str, ...] | None:
        url = discovery_url(self._sign_on.issuer)
        try:
            token_origin = csp_origin(str(fetch_json(url, self._timeout)["token_endpoint"]))
        except Exception as error:  # the page still works with the issuer's origin; logged per try
            log.warning("console sign-on: no token endpoint from %s (%s)", url, error)
            return None
        return tuple(dict.fromkeys((self._sign_on.origin, token_origin)))
