"""The console's single sign-on in chromium: people sign in at a real OpenID Connect provider
process (tests/oidc_issuer.py) with the authorization-code flow and PKCE, against the gateway
started by its CLI on a real redis-server. The role comes from the token's claim; the audit
names the token's subject; a forged state or a wrong PKCE verifier signs nobody in; an expired
token and sign-out return to sign-in; no request goes anywhere but the gateway and the issuer.

One provider, one gateway and one browser serve the whole module."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from playwright.sync_api import expect
from rq import Queue

from gateway.demo import jobs
from tests.test_oidc import Issuer

from .console import TIMEOUT_MS, Visit, rest, start_gateway, watch
from .helpers import RedisServer, failed_ids, run_worker
from .processes import GatewayProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CLIENT = "rq-console"
USERS = {"alice": {"roles": ["rq-operators"]}, "victor": {"roles": ["rq-viewers"]}}
ROLES = "rq-operators=operator;rq-viewers=viewer"
TOKEN_ITEM = "rq-gateway.key"


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issuer]:
    server = Issuer(tmp_path_factory.mktemp("issuer"), users=USERS)
    try:
        server.wait()
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def gateway(
    redis_server: RedisServer, issuer: Issuer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("console-sign-on") / "gateway.log"
    sign_on = ["--oidc-issuer", issuer.url, "--oidc-audience", CLIENT, "--oidc-roles", ROLES]
    process = start_gateway(redis_server.url, log, *sign_on, "--oidc-client-id", CLIENT)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def visit(browser, gateway, issuer) -> Iterator:
    """visit(path): a page in a fresh context, allowed to reach the gateway and the issuer (and its
    token endpoint, on another origin) only."""
    opened: list[Visit] = []

    def open_page(path: str = "/") -> Visit:
        seen = watch(
            browser.new_context().new_page(), gateway.base, path, also=(issuer.url, issuer.token_origin)
        )
        opened.append(seen)
        return seen

    yield open_page
    for seen in opened:
        seen.page.context.close()


def sso_button(page, issuer: Issuer):
    return page.get_by_role("button", name=f"Sign in with {urlsplit(issuer.url).netloc}")


def to_the_issuer(page, issuer: Issuer) -> None:
    sso_button(page, issuer).click()
    page.get_by_label("User").wait_for(timeout=TIMEOUT_MS)
    assert page.url.startswith(f"{issuer.url}/authorize?")


def sign_in(page, issuer: Issuer, user: str) -> None:
    to_the_issuer(page, issuer)
    page.get_by_label("User").select_option(user)
    page.get_by_role("button", name="Sign in", exact=True).click()


def failed_job(r, redis_url: str) -> str:
    Queue("default", connection=r).enqueue(jobs.parse_report, "bad")
    run_worker(redis_url, ["default"])
    (job_id,) = failed_ids(r)
    return job_id


def test_an_operator_signs_in_at_the_issuer_and_their_retry_is_audited_under_their_subject(
    r, redis_url, gateway, issuer, visit
):
    job_id = failed_job(r, redis_url)
    seen = visit(f"/#/job/{job_id}")
    page = seen.page
    sign_in(page, issuer, "alice")
    expect(page.get_by_text("oidc:alice (operator)")).to_be_visible(timeout=TIMEOUT_MS)
    # Back on the view the sign-in started from, with the code gone from the address bar.
    assert page.url == f"{gateway.base}/#/job/{job_id}"
    authorize = next(url for url in seen.requests if "/authorize?" in url)
    assert "code_challenge_method=S256" in authorize and "nonce=" in authorize
    # The bearer is the ID token (--oidc-audience is the client id), for this user.
    claims = jwt.decode(
        page.evaluate(f"sessionStorage.getItem('{TOKEN_ITEM}')"), options={"verify_signature": False}
    )
    assert (claims["aud"], claims["sub"]) == (CLIENT, "alice")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("#job-status")).to_have_text("queued", timeout=TIMEOUT_MS)
    (entry,) = rest(gateway, "/api/v1/audit", "admin")["entries"]
    assert (entry["key"], entry["action"], entry["job_ids"]) == ("oidc:alice", "retry", [job_id])
    # The live status came over the websocket, which took the token in connection_init.
    assert any("connection_ack" in frame for frame in seen.frames)
    assert issuer.token_url in seen.requests
    assert seen.outside == []


def test_a_viewer_signs_in_and_sees_no_action(r, redis_url, issuer, visit):
    job_id = failed_job(r, redis_url)
    page = visit(f"/#/job/{job_id}").page
    sign_in(page, issuer, "victor")
    expect(page.get_by_text("oidc:victor (viewer)")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#job-status")).to_have_text("failed", timeout=TIMEOUT_MS)
    assert page.locator("main button").count() == 0


def test_a_forged_state_signs_nobody_in_and_its_code_is_never_exchanged(issuer, visit):
    page = visit().page
    to_the_issuer(page, issuer)
    tokens_before = issuer.get("/fetches")["tokens"]
    page.locator("input[name=state]").evaluate("input => { input.value = 'forged'; }")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("state does not match", timeout=TIMEOUT_MS)
    assert issuer.get("/fetches")["tokens"] == tokens_before
    assert "code=" not in page.url
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_ITEM}')") is None
    expect(page.get_by_label("API key")).to_be_visible()


def test_a_wrong_pkce_verifier_signs_nobody_in(issuer, visit):
    seen = visit()
    page = seen.page

    def wrong_verifier(route) -> None:
        body = re.sub(r"code_verifier=[^&]*", "code_verifier=" + "x" * 43, route.request.post_data)
        route.fallback(post_data=body)  # on to the recording route, changed

    page.route(issuer.token_url, wrong_verifier)
    sign_in(page, issuer, "alice")
    expect(page.get_by_role("alert")).to_contain_text("PKCE verification failed", timeout=TIMEOUT_MS)
    assert issuer.token_url in seen.requests
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_ITEM}')") is None


def test_an_expired_token_returns_to_sign_in_and_sign_out_forgets_the_token(issuer, gateway, visit):
    page = visit().page
    sign_in(page, issuer, "alice")
    expect(page.get_by_text("oidc:alice (operator)")).to_be_visible(timeout=TIMEOUT_MS)
    # The issuer's own key signs a token that expired ten seconds ago, as time would.
    now = int(time.time())
    expired = issuer.token(aud=CLIENT, iat=now - 310, exp=now - 10)
    page.evaluate(f"token => sessionStorage.setItem('{TOKEN_ITEM}', token)", expired)
    page.evaluate("location.hash = '#/workers'")
    expect(page.get_by_role("alert")).to_have_text(
        "Your sign-in has expired or is no longer accepted. Sign in again.", timeout=TIMEOUT_MS
    )
    sign_in(page, issuer, "alice")
    expect(page.get_by_text("oidc:alice (operator)")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Sign out").click()
    expect(sso_button(page, issuer)).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_ITEM}')") is None
    page.reload()
    expect(sso_button(page, issuer)).to_be_visible(timeout=TIMEOUT_MS)
    assert page.get_by_role("alert").count() == 0


def test_the_console_page_lets_the_browser_reach_the_issuer_and_its_token_endpoint_only(gateway, issuer):
    policy = rest_headers(gateway.base + "/")["content-security-policy"]
    # The token endpoint is on another origin (as Google's is): read from the discovery document.
    assert f"connect-src 'self' {issuer.url} {issuer.token_origin};" in policy
    assert "connect-src 'self';" in rest_headers(gateway.base + "/docs")["content-security-policy"]


def rest_headers(url: str) -> dict[str, str]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return {name.lower(): value for name, value in response.headers.items()}


def test_an_id_token_for_another_nonce_signs_nobody_in(issuer, visit):
    page = visit().page

    def replayed_nonce(route) -> None:
        route.fallback(url=re.sub(r"nonce=[^&]*", "nonce=replayed", route.request.url))

    page.route(f"{issuer.url}/authorize?*", replayed_nonce)
    sign_in(page, issuer, "alice")
    expect(page.get_by_role("alert")).to_contain_text("nonce does not match", timeout=TIMEOUT_MS)
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_ITEM}')") is None


def test_a_refusal_at_the_issuer_is_shown_and_signs_nobody_in(issuer, gateway, visit):
    page = visit("/?error=access_denied&error_description=The+user+said+no&state=any").page
    expect(page.get_by_role("alert")).to_have_text(
        f"{urlsplit(issuer.url).netloc} did not sign you in: The user said no.", timeout=TIMEOUT_MS
    )
    assert page.url == f"{gateway.base}/"
    expect(sso_button(page, issuer)).to_be_visible()
