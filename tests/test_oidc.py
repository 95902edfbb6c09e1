"""Single sign-on (gateway/oidc.py) against a real issuer process (tests/oidc_issuer.py): bearer
JWTs are checked against the issuer's JWKS (cached; fetched again on an unknown kid), with exp,
nbf, iss and aud required and the algorithm allow-listed. Every bad token is 401
UNAUTHENTICATED in both transports; API keys keep working; the audit names the token's subject."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fakeredis
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from gateway import oidc
from gateway.apikeys import hash_key
from gateway.app import create_app
from gateway.config import Settings
from gateway.services.audit import AUDIT_STREAM
from tests.test_cli import free_port

AUDIENCE = "rq-gateway"
API_KEY = "rqg_plain-api-key-still-works"
ISSUER_SCRIPT = Path(__file__).resolve().parent / "oidc_issuer.py"


class Issuer:
    """The issuer process; with `users` (subject -> extra claims) it also signs them in with the
    authorization-code flow, signing with key k1."""

    def __init__(self, directory: Path, users: dict[str, dict[str, Any]] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token_origin = f"http://localhost:{self.port}"  # another origin, as Google's is
        self.token_url = f"{self.token_origin}/token"
        self.jwks_file = directory / "jwks.json"
        self.keys: dict[str, Any] = {}
        self.publish(self.new_key("k1"))
        provider = []
        if users is not None:
            pem = self.keys["k1"].private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            provider_file = directory / "provider.json"
            provider_file.write_text(json.dumps({"kid": "k1", "pem": pem.decode(), "users": users}))
            provider.append(str(provider_file))
        self.process = subprocess.Popen(
            [sys.executable, str(ISSUER_SCRIPT), str(self.port), str(self.jwks_file), *provider]
        )

    def new_key(self, kid: str) -> str:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    def publish(self, *kids: str) -> None:
        jwks = []
        for kid in kids:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
            jwks.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        self.jwks_file.write_text(json.dumps({"keys": jwks}))

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return json.loads(response.read())

    def wait(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self.get("/fetches")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # poll until the process listens; bounded by the deadline

    def token(self, kid: str = "k1", **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "alice",
            "iat": now,
            "exp": now + 300,
            "roles": ["rq-operators"],
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[Issuer]:
    server = Issuer(tmp_path)
    try:
        server.wait()
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)


@pytest.fixture
def client(issuer: Issuer) -> TestClient:
    settings = Settings(
        redis_url="redis://unused:6379/0",
        api_keys=f"ops:admin:{hash_key(API_KEY)}",
        oidc_issuer=issuer.url,
        oidc_audience=AUDIENCE,
        oidc_roles="rq-viewers=viewer;rq-operators=operator:billing*",
        default_queue="billing",
    )
    connection = fakeredis.FakeRedis()
    connection.sadd("rq:queues", "rq:queue:billing")  # a queue RQ knows (else a 404)
    return TestClient(create_app(settings, connection=connection))


def _rest(client: TestClient, token: str, queue: str = "billing") -> Any:
    return client.get(
        "/api/v1/jobs/failed", params={"queue": queue}, headers={"Authorization": f"Bearer {token}"}
    )


def _graphql(client: TestClient, token: str) -> Any:
    query = {"query": "{ failedJobs { totalCount } }"}
    return client.post("/graphql", json=query, headers={"Authorization": f"Bearer {token}"}).json()


def _unsigned(issuer: Issuer) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer.url,
        "aud": AUDIENCE,
        "sub": "mallory",
        "exp": now + 300,
        "roles": ["rq-operators"],
    }
    return jwt.encode(claims, None, algorithm="none")


BAD_TOKENS: dict[str, Callable[[Issuer], str]] = {
    "expired": lambda i: i.token(exp=int(time.time()) - 60, iat=int(time.time()) - 400),
    "not yet valid": lambda i: i.token(nbf=int(time.time()) + 600),
    "wrong audience": lambda i: i.token(aud="another-service"),
    "wrong issuer": lambda i: i.token(iss="https://evil.example.com"),
    "no expiry": lambda i: i.token(exp=None),
    "unknown key": lambda i: i.token(kid=i.new_key("unpublished")),
    "alg none": _unsigned,
    "hs256 with the public key": lambda i: jwt.encode(
        {"iss": i.url, "aud": AUDIENCE, "sub": "m", "exp": int(time.time()) + 300},
        "x" * 32,
        algorithm="HS256",
        headers={"kid": "k1"},
    ),
    "tampered": lambda i: i.token()[:-6] + "AAAAAA",
    "no role": lambda i: i.token(roles=["marketing"]),
}


@pytest.mark.parametrize("case", BAD_TOKENS)
def test_every_bad_token_is_401_unauthenticated(client, issuer, case):
    token = BAD_TOKENS[case](issuer)
    response = _rest(client, token)
    assert response.status_code == 401, (case, response.text)
    assert response.json()["detail"].startswith("Invalid bearer token: ")
    body = _graphql(client, token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", (case, body)


def test_a_valid_token_gets_its_mapped_role_and_patterns(client, issuer):
    token = issuer.token()
    assert _rest(client, token).status_code == 200
    assert _graphql(client, token)["data"]["failedJobs"]["totalCount"] == 0
    assert _rest(client, token, queue="mail").status_code == 403  # operator on billing* only
    viewer = issuer.token(roles="rq-viewers")  # a string claim works as a list of one
    retry = client.post(
        "/api/v1/jobs/failed/retry-all",
        params={"queue": "billing"},
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert retry.status_code == 403
    # API keys are unchanged next to tokens.
    assert _rest(client, API_KEY).status_code == 200


def test_the_audit_records_the_tokens_subject(client, issuer):
    response = client.post(
        "/api/v1/jobs/failed/retry-all",
        params={"queue": "billing"},
        headers={"Authorization": f"Bearer {issuer.token()}"},
    )
    assert response.status_code == 200, response.text
    trail = client.app.state.audit.connection.xrange(AUDIT_STREAM)
    assert [json.loads(fields[b"record"])["key"] for _, fields in trail] == ["oidc:alice"]


def test_the_jwks_is_cached_and_fetched_again_on_an_unknown_kid(client, issuer, monkeypatch):
    for _ in range(5):
        assert _rest(client, issuer.token()).status_code == 200
    assert issuer.get("/fetches") == {"jwks": 1}, "the keys are cached"
    monkeypatch.setattr(oidc, "REFETCH_SECONDS", 0.0)
    issuer.publish("k1", issuer.new_key("k2"))  # the issuer rotates in a new key
    assert _rest(client, issuer.token(kid="k2")).status_code == 200
    assert issuer.get("/fetches") == {"jwks": 2}


def test_unknown_kids_cannot_make_the_gateway_hammer_the_issuer(client, issuer):
    assert _rest(client, issuer.token()).status_code == 200
    for n in range(5):
        assert _rest(client, issuer.token(kid=issuer.new_key(f"random-{n}"))).status_code == 401
    assert issuer.get("/fetches")["jwks"] <= 2


@pytest.mark.parametrize("algorithms", ["none", "HS256", "RS256,none", ""])
def test_the_algorithm_allow_list_refuses_none_and_hmac(algorithms):
    with pytest.raises(ValueError, match="RQ_GATEWAY_OIDC_ALGORITHMS"):
        Settings(oidc_algorithms=algorithms or " ")


def test_single_sign_on_alone_serves_a_public_address_and_refuses_anonymous(issuer):
    from gateway.cli_security import refuse_open_exposure

    settings = Settings(
        redis_url="redis://unused:6379/0",
        host="0.0.0.0",
        oidc_issuer=issuer.url,
        oidc_audience=AUDIENCE,
        oidc_roles="rq-viewers=viewer",
        default_queue="billing",
    )
    refuse_open_exposure(settings)  # no keys, but every request must carry a token
    connection = fakeredis.FakeRedis()
    connection.sadd("rq:queues", "rq:queue:billing")
    client = TestClient(create_app(settings, connection=connection))
    assert client.get("/api/v1/jobs/failed").status_code == 401
    assert client.get("/api/v1/jobs/failed", headers={"Authorization": "Bearer rqg_any"}).status_code == 401
    assert _rest(client, issuer.token(roles=["rq-viewers"])).status_code == 200


def test_the_readme_example_is_read_as_documented():
    import re
    import shlex

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Single sign-on\n", 1)[1].split("\n### ", 1)[0]
    command = shlex.split(
        re.search(r"```shell\n(rq-gateway serve .*?)```", section, re.S)[1].replace("\\\n", "")
    )
    options = {command[i][2:].replace("-", "_"): command[i + 1] for i in range(2, len(command), 2)}
    settings = Settings(**options)
    verifier = oidc.verifier_of(settings)
    assert verifier is not None and verifier.role_claim == "groups"
    assert [(g.value, g.role.label, g.queues) for g in verifier.grants] == [
        ("rq-admins", "admin", ()),
        ("billing-team", "operator", ("billing-*",)),
        ("staff", "viewer", ()),
    ]


def test_an_unknown_instance_without_a_valid_credential_is_401_not_404(client):
    # Authentication comes first: a caller without a key or token learns no instance names.
    assert client.get("/api/v1/jobs/failed", params={"instance": "nope"}).status_code == 401
    assert (
        client.get(
            "/api/v1/jobs/failed", params={"instance": "nope"}, headers={"Authorization": f"Bearer {API_KEY}"}
        ).status_code
        == 404
    )
