"""Single sign-on: bearer JWTs from an OpenID Connect issuer, next to API keys (README "Single
sign-on"). Keys stay as they are; a bearer that is a JWT (three dot-separated parts, never an
`rqg_` key) is checked here instead.

Checked with PyJWT, not by hand: the signature against the issuer's JWKS (from its discovery
document, cached, fetched again on an unknown `kid` at most every REFETCH_SECONDS, so random
`kid`s cannot make the gateway hammer the issuer), `exp`, `nbf`, `iss` and `aud` (all required),
and the algorithm against an allow-list that can never hold `none` or an HMAC algorithm (whose
"key" would be the public JWKS).

The role comes from one claim (`--oidc-role-claim`, a string or a list) through a mapping
(`--oidc-roles`): `VALUE=ROLE[:PATTERN,PATTERN...]` entries separated by ';'. The highest role
any of the token's values maps to wins; its queue patterns are the union of those entries'
(none on one of them: every queue). The principal's name, which the audit records, is
`oidc:<sub>`."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.apikeys import KeyConfigError, parse_patterns
from gateway.services import Principal, Role

REFETCH_SECONDS = 10.0
ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEFAULT_ALGORITHMS = ("RS256", "ES256")
UNUSABLE_TOKEN = "Invalid bearer token"


@dataclass(frozen=True)
class RoleGrant:
    value: str
    role: Role
    queues: tuple[str, ...] = ()


def parse_role_map(text: str) -> tuple[RoleGrant, ...]:
    grants = []
    for number, raw in enumerate(text.split(";"), start=1):
        entry = raw.strip()
        if not entry:
            continue
        value, equals, rest = entry.partition("=")
        role, _, patterns = rest.partition(":")
        if not equals or not value.strip() or role.strip().upper() not in Role.__members__:
            raise KeyConfigError(f"entry {number}: expected VALUE=viewer|operator|admin[:PATTERNS]")
        queues = parse_patterns(patterns) if patterns else ()
        grants.append(RoleGrant(value.strip(), Role[role.strip().upper()], queues))
    return tuple(grants)


def check_algorithms(names: tuple[str, ...]) -> tuple[str, ...]:
    refused = [name for name in names if name not in ASYMMETRIC]
    if refused or not names:
        raise ValueError(
            f"not allowed: {', '.join(refused) or 'an empty list'}; use asymmetric algorithms "
            f"({', '.join(sorted(ASYMMETRIC))}); never none or HS*"
        )
    return names


def check_settings(settings: Any) -> None:
    """ValueError naming the options, for OIDC settings that cannot work together."""
    try:
        check_algorithms(tuple(settings.oidc_algorithms))
    except ValueError as error:
        raise ValueError(f"--oidc-algorithms (RQ_GATEWAY_OIDC_ALGORITHMS): {error}") from None
    if not (settings.oidc_issuer or settings.oidc_audience or settings.oidc_roles):
        return
    if not (settings.oidc_issuer and settings.oidc_audience and settings.oidc_roles):
        raise ValueError(
            "--oidc-issuer, --oidc-audience and --oidc-roles (RQ_GATEWAY_OIDC_ISSUER, "
            "RQ_GATEWAY_OIDC_AUDIENCE, RQ_GATEWAY_OIDC_ROLES): give all three or none"
        )
    try:
        parse_role_map(settings.oidc_roles)
    except KeyConfigError as error:
        raise ValueError(f"--oidc-roles (RQ_GATEWAY_OIDC_ROLES): {error}") from None


def verifier_of(settings: Any) -> OidcVerifier | None:
    if not settings.oidc_issuer:
        return None
    return OidcVerifier(
        settings.oidc_issuer,
        settings.oidc_audience,
        settings.oidc_role_claim,
        parse_role_map(settings.oidc_roles),
        tuple(settings.oidc_algorithms),
    )


MOST_BYTES = 1 << 20  # a discovery document or JWKS is a few kB: more is not one


def discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def fetch_json(url: str, timeout: float) -> Any:
    """A JSON document from the issuer (discovery, JWKS), read up to MOST_BYTES."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read(MOST_BYTES + 1)
    if len(body) > MOST_BYTES:
        raise ValueError(f"{url} answered more than {MOST_BYTES} bytes")
    return json.loads(body)


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


class _Jwks:
    """The issuer's keys by `kid`: discovery once, the JWKS again on an unknown kid."""

    def __init__(self, issuer: str, timeout: float):
        self.issuer = issuer.rstrip("/")
        self.timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_uri: str | None = None
        self._fetched_at = -REFETCH_SECONDS
        self._lock = threading.Lock()

    def _get(self, url: str) -> Any:
        return fetch_json(url, self.timeout)

    def key(self, kid: str) -> jwt.PyJWK | None:
        if kid in self._keys:
            return self._keys[kid]
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= REFETCH_SECONDS:
                self._fetched_at = time.monotonic()
                jwks_uri = self._jwks_uri or str(self._get(discovery_url(self.issuer))["jwks_uri"])
                self._jwks_uri = jwks_uri
                keys = jwt.PyJWKSet.from_dict(self._get(jwks_uri)).keys
                self._keys = {key.key_id: key for key in keys if key.key_id}
        return self._keys.get(kid)


class OidcVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        role_claim: str = "roles",
        grants: tuple[RoleGrant, ...] = (),
        algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS,
        timeout: float = 5.0,
    ):
        self.issuer = issuer
        self.audience = audience
        self.role_claim = role_claim
        self.grants = grants
        self.algorithms = list(check_algorithms(algorithms))
        self._jwks = _Jwks(issuer, timeout)

    def principal(self, token: str) -> Principal:
        """The token's principal, or an unauthenticated one whose refusal says why (401)."""
        try:
            claims = self._claims(token)
        except jwt.PyJWTError as error:
            return _refused(f"{UNUSABLE_TOKEN}: {_reason(error)}")
        except (OSError, ValueError, KeyError):
            return _refused(f"{UNUSABLE_TOKEN}: the issuer's keys could not be fetched")
        values = claims.get(self.role_claim)
        values = [values] if isinstance(values, str) else values if isinstance(values, list) else []
        matched = [grant for grant in self.grants if grant.value in values]
        if not matched:
            return _refused(f"{UNUSABLE_TOKEN}: its {self.role_claim!r} claim grants no role here")
        role = max(grant.role for grant in matched)
        unrestricted = any(not grant.queues for grant in matched)
        queues = () if unrestricted else tuple(dict.fromkeys(q for grant in matched for q in grant.queues))
        return Principal(name=f"oidc:{claims['sub']}", role=role, queues=queues)

    def _claims(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in self.algorithms:
            raise jwt.InvalidAlgorithmError(f"algorithm {header.get('alg')!r} is not allowed")
        key = self._jwks.key(str(header.get("kid")))
        if key is None:
            raise jwt.InvalidKeyError("signed with a key the issuer does not publish")
        return jwt.decode(
            token,
            key=key,
            algorithms=self.algorithms,
            audience=self.audience,
            issuer=self.issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )


def _reason(error: jwt.PyJWTError) -> str:
    """Words for the client; PyJWT's own messages are fine to show, they hold no secret."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return "it has expired"
    if isinstance(error, jwt.ImmatureSignatureError):
        return "it is not valid yet (nbf)"
    if isinstance(error, jwt.InvalidAudienceError):
        return "it is for another audience"
    if isinstance(error, jwt.InvalidIssuerError):
        return "it is from another issuer"
    if isinstance(error, jwt.InvalidSignatureError):
        return "its signature does not verify"
    return str(error) or type(error).__name__


def _refused(reason: str) -> Principal:
    return Principal(name="anonymous", role=None, refusal=reason)
