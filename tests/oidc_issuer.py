"""A small OpenID Connect provider, run as its own process by the tests.

tests/test_oidc.py uses its discovery document and the JWKS file the test writes (read on every
request, so the test can rotate keys); tokens are signed by the test itself.

tests/realredis/test_console_sign_on.py also gives it a PROVIDER_FILE (JSON: `kid`, `pem`, the
private key, and `users`: each subject's extra claims) and signs people in through it with the
authorization-code flow as a public client: /authorize shows a form to pick a user and redirects
back with a one-use code; /token hands out an ID token (signed with PyJWT; `aud` is the client
id, the `nonce` is the authorization request's) and an opaque access token, only for the code's
client and redirect URI and only with the code_verifier whose S256 is the code_challenge (PKCE
is required). Its JSON answers allow any origin (CORS), as a browser client needs. Its token
endpoint is on another origin than the issuer (http://localhost:PORT), as many providers' are.
oidc-provider-mock was tried first: it neither requires PKCE nor accepts public clients.

/fetches counts JWKS fetches (and, as a provider, token requests).

    python tests/oidc_issuer.py PORT JWKS_FILE [PROVIDER_FILE]"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import time
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt

PORT, JWKS_FILE = int(sys.argv[1]), Path(sys.argv[2])
PROVIDER = json.loads(Path(sys.argv[3]).read_text()) if len(sys.argv) > 3 else None
ISSUER = f"http://127.0.0.1:{PORT}"
# The token endpoint on another origin (same server, another host name), as Google's and
# Cognito's are: the console page must be allowed to fetch it too.
TOKEN_ORIGIN = f"http://localhost:{PORT}"
LIFETIME = 300
counts = {"jwks": 0, "tokens": 0}
codes: dict[str, dict[str, Any]] = {}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/.well-known/openid-configuration":
            self.answer(
                {
                    "issuer": ISSUER,
                    "jwks_uri": f"{ISSUER}/jwks",
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{TOKEN_ORIGIN}/token",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["none"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )
        elif path == "/jwks":
            counts["jwks"] += 1
            self.answer(json.loads(JWKS_FILE.read_text()))
        elif path == "/fetches":
            self.answer(counts if PROVIDER else {"jwks": counts["jwks"]})
        elif path == "/authorize" and PROVIDER:
            self.authorize_form(dict(parse_qsl(query)))
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        form = dict(parse_qsl(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()))
        if self.path == "/authorize" and PROVIDER:
            self.authorize(form)
        elif self.path == "/token" and PROVIDER:
            counts["tokens"] += 1
            self.token(form)
        else:
            self.send_error(404)

    def do_OPTIONS(self) -> None:  # a CORS preflight
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
        self.end_headers()

    def authorize_form(self, request: dict[str, str]) -> None:
        missing = [
            name for name in ("client_id", "redirect_uri", "state", "code_challenge") if not request.get(name)
        ]
        if request.get("response_type") != "code" or missing:
            self.page(400, f"Bad authorization request: response_type=code and {missing} needed")
            return
        if request.get("code_challenge_method") != "S256":
            self.page(400, "Bad authorization request: PKCE with S256 is required")
            return
        hidden = "".join(
            f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
            for name, value in request.items()
        )
        users = "".join(f"<option>{escape(sub)}</option>" for sub in PROVIDER["users"])
        self.page(
            200,
            f'<form method="post" action="/authorize">{hidden}<label for="sub">User</label>'
            f'<select id="sub" name="sub">{users}</select><button type="submit">Sign in</button></form>',
        )

    def authorize(self, form: dict[str, str]) -> None:
        code = secrets.token_urlsafe(24)
        codes[code] = {**form, "expires": time.time() + 60}
        query = urlencode({"code": code, "state": form.get("state", "")})
        self.send_response(302)
        self.send_header("Location", f"{form['redirect_uri']}?{query}")
        self.end_headers()

    def token(self, form: dict[str, str]) -> None:
        grant = codes.pop(form.get("code", ""), None)  # one use, right or wrong
        if form.get("grant_type") != "authorization_code":
            self.answer({"error": "unsupported_grant_type"}, 400)
        elif not grant or grant["expires"] < time.time():
            self.answer({"error": "invalid_grant", "error_description": "unknown or used code"}, 400)
        elif (form.get("client_id"), form.get("redirect_uri")) != (
            grant["client_id"],
            grant["redirect_uri"],
        ):
            self.answer({"error": "invalid_grant", "error_description": "another client"}, 400)
        elif s256(form.get("code_verifier", "")) != grant["code_challenge"]:
            self.answer({"error": "invalid_grant", "error_description": "PKCE verification failed"}, 400)
        else:
            self.answer(self.tokens(grant))

    def tokens(self, grant: dict[str, Any]) -> dict[str, Any]:
        assert PROVIDER is not None
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": grant["client_id"],
            "sub": grant["sub"],
            "iat": now,
            "exp": now + LIFETIME,
            **({"nonce": grant["nonce"]} if grant.get("nonce") else {}),
            **PROVIDER["users"][grant["sub"]],
        }
        headers = {"kid": PROVIDER["kid"]}
        id_token = jwt.encode(claims, PROVIDER["pem"], algorithm="RS256", headers=headers)
        return {
            "token_type": "Bearer",
            "expires_in": LIFETIME,
            "id_token": id_token,
            "access_token": secrets.token_urlsafe(24),  # opaque, as many issuers' are
        }

    def answer(self, body: Any, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def page(self, status: int, body: str) -> None:
        data = f"<!doctype html><html lang='en'><title>Issuer</title><main>{body}</main></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data.encode())))
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, *args: object) -> None:
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
