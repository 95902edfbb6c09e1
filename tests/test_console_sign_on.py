"""The console's single-sign-on settings (gateway/console_sign_on.py): which token the console
sends, the page attributes that carry the issuer and client, and the Content-Security-Policy,
which gains the issuer's origin (and its token endpoint's, from its discovery document) in
connect-src for the console page only, and only when the console signs in through the issuer.
The flow itself runs in chromium: tests/realredis/test_console_sign_on.py."""

from __future__ import annotations

import re
import shlex
from html.parser import HTMLParser
from pathlib import Path

import fakeredis
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway import cli
from gateway.app import create_app
from gateway.config import Settings
from gateway.console_sign_on import RETRY_SECONDS, ConsoleSignOn, ProviderOrigins, csp_origin, sign_on_of
from gateway.docs_pages import CONTENT_SECURITY_POLICY, console_page
from tests.test_oidc import Issuer

ISSUER = "https://login.example.com/realms/acme"
OIDC = {"oidc_issuer": ISSUER, "oidc_audience": "rq-console", "oidc_roles": "staff=viewer"}


def settings(**values: str) -> Settings:
    return Settings(redis_url="redis://unused", **values)


def policy_of(client: TestClient, path: str) -> dict[str, str]:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, path
    header = response.headers["content-security-policy"]
    return {d.split()[0]: d for d in header.split("; ")}


def client_of(configured: Settings) -> TestClient:
    return TestClient(create_app(configured, connection=fakeredis.FakeRedis()))


def test_without_a_client_id_every_page_keeps_the_policy_and_the_console_has_no_sign_on():
    client = client_of(settings(**OIDC))  # the gateway checks tokens; the console uses keys
    for path in ("/", "/docs", "/graphql"):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
    assert "data-oidc" not in client.get("/").text


def test_with_a_client_id_only_the_consoles_connect_src_gains_the_issuers_origin():
    client = client_of(settings(**OIDC, oidc_client_id="rq-console"))
    default = {d.split()[0]: d for d in CONTENT_SECURITY_POLICY.split("; ")}
    console = policy_of(client, "/")
    assert console["connect-src"] == "connect-src 'self' https://login.example.com"
    assert {k: v for k, v in console.items() if k != "connect-src"} == {
        k: v for k, v in default.items() if k != "connect-src"
    }
    assert policy_of(client, "/docs") == policy_of(client, "/graphql") == default
    page = client.get("/").text
    assert f'data-oidc-issuer="{ISSUER}"' in page and 'data-oidc-token="id_token"' in page


def test_the_console_sends_the_id_token_only_when_the_audience_is_the_client_id():
    same = sign_on_of(settings(**OIDC, oidc_client_id="rq-console"))
    other = sign_on_of(settings(**{**OIDC, "oidc_audience": "api://rq"}, oidc_client_id="rq-console"))
    assert same is not None and same.token == "id_token"
    assert other is not None and other.token == "access_token"
    assert sign_on_of(settings(**OIDC)) is None


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"oidc_client_id": "rq-console"}, "--oidc-client-id"),
        ({**OIDC, "oidc_client_id": "rq-console", "oidc_scopes": "profile email"}, "--oidc-scopes"),
        ({**OIDC, "oidc_issuer": "login.example.com", "oidc_client_id": "c"}, "--oidc-issuer"),
        # Its origin goes into the page's Content-Security-Policy: nothing that could end a directive.
        ({**OIDC, "oidc_issuer": "https://a;b.example.com", "oidc_client_id": "c"}, "--oidc-issuer"),
        ({**OIDC, "oidc_issuer": "https://u:p@login.example.com", "oidc_client_id": "c"}, "--oidc-issuer"),
    ],
)
def test_settings_that_cannot_sign_in_are_refused_by_name(values, named):
    with pytest.raises(ValidationError, match=named):
        settings(**values)


class _App(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if dict(attrs).get("id") == "app":
            self.attributes = dict(attrs)


@given(client_id=st.text(min_size=1), scopes=st.text())
def test_any_client_id_and_scopes_reach_the_page_as_they_are(client_id, scopes):
    """Escaped, so no value can end the attribute or add markup to the page."""
    parser = _App()
    parser.feed(console_page(ConsoleSignOn(ISSUER, client_id, scopes, "id_token")))
    assert parser.attributes["data-oidc-client-id"] == client_id
    assert parser.attributes["data-oidc-scopes"] == scopes
    assert parser.attributes["data-oidc-issuer"] == ISSUER


def test_the_readme_example_serves_a_console_that_signs_in_with_the_id_token(monkeypatch):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("\n#### Signing in to the console\n", 1)[1].split("\n### ", 1)[0]
    (block,) = re.findall(r"```shell\n(.*?)```", section, flags=re.S)
    argv = shlex.split(block.replace("\\\n", " "))
    assert argv[:2] == ["rq-gateway", "serve"]
    served: list = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.append(app))
    monkeypatch.setattr(cli, "warn_if_unreachable", lambda settings: None)  # no such Redis here
    for name in ("REDIS_URL", "RQ_GATEWAY_API_KEYS", "RQ_GATEWAY_API_KEYS_FILE", "RQ_GATEWAY_HOST"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli.main, argv[1:])
    assert result.exit_code == 0, result.output
    (app,) = served
    assert sign_on_of(app.state.settings) == ConsoleSignOn(ISSUER, "rq-console", "openid profile", "id_token")


def test_the_token_endpoints_origin_comes_from_the_issuers_discovery_document(tmp_path):
    """Google's token endpoint (oauth2.googleapis.com) is not on its issuer's origin
    (accounts.google.com); the test provider's is on another origin too, and the page's
    connect-src must allow it or the browser refuses the code exchange."""
    issuer = Issuer(tmp_path)
    try:
        issuer.wait()
        sign_on = ConsoleSignOn(issuer.url, "rq-console", "openid", "id_token")
        assert ProviderOrigins(sign_on).get() == (issuer.url, issuer.token_origin)
    finally:
        issuer.process.terminate()
        issuer.process.wait(timeout=10)


def test_an_issuer_that_does_not_answer_leaves_its_own_origin_and_is_asked_again_later(monkeypatch):
    attempts: list[str] = []

    def unreachable(url: str, timeout: float) -> None:
        attempts.append(url)
        raise OSError("connection refused")

    monkeypatch.setattr("urllib.request.urlopen", unreachable)
    now = [0.0]
    origins = ProviderOrigins(ConsoleSignOn(ISSUER, "rq-console", "openid", "id_token"), clock=lambda: now[0])
    assert origins.get() == ("https://login.example.com",)
    now[0] = RETRY_SECONDS / 2
    assert origins.get() == ("https://login.example.com",)
    assert attempts == [f"{ISSUER}/.well-known/openid-configuration"]  # not again so soon
    now[0] = RETRY_SECONDS + 1
    origins.get()
    assert len(attempts) == 2


@pytest.mark.parametrize(
    ("token_endpoint", "origin"),
    [
        ("https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com"),
        ("https://login.example.com:8443/oauth2/token?x=1", "https://login.example.com:8443"),
        ("http://[::1]:9000/token", "http://[::1]:9000"),
        ("https://bücher.example/token", "https://xn--bcher-kva.example"),
        ("HTTPS://Login.Example.com/token", "https://login.example.com"),
    ],
)
def test_a_token_endpoint_becomes_a_plain_origin(token_endpoint, origin):
    assert csp_origin(token_endpoint) == origin


@pytest.mark.parametrize(
    "token_endpoint",
    [
        "https://x.com; frame-ancestors *; a/token",  # would add a directive to the policy
        "https://x.com 'unsafe-inline'/token",
        "https:token",  # no host
        "https://user:secret@login.example.com/token",
        "javascript://login.example.com/token",
        "https://login.example.com:99999/token",
        "",
    ],
)
def test_a_token_endpoint_that_cannot_stand_in_the_policy_is_refused(token_endpoint):
    with pytest.raises(ValueError):
        csp_origin(token_endpoint)


def test_a_hostile_discovery_document_leaves_the_issuers_origin_alone(monkeypatch):
    class Answer:
        def __init__(self, body: bytes):
            self.body = body

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def read(self, limit: int) -> bytes:
            return self.body[:limit]

    document = b'{"token_endpoint": "https://x.com; frame-ancestors *; a/token"}'
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: Answer(document))
    origins = ProviderOrigins(ConsoleSignOn(ISSUER, "rq-console", "openid", "id_token"))
    assert origins.get() == ("https://login.example.com",)
    huge = b'{"token_endpoint": "https://a.example/t", "pad": "' + b"x" * (1 << 20) + b'"}'
    monkeypatch.setattr("urllib.request.urlopen", lambda url, timeout: Answer(huge))
    origins = ProviderOrigins(ConsoleSignOn(ISSUER, "rq-console", "openid", "id_token"))
    assert origins.get() == ("https://login.example.com",)  # over 1 MB: not a discovery document
