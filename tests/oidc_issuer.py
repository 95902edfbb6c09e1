"""A tiny OpenID Connect issuer, run as its own process by tests/test_oidc.py: it serves the
discovery document and the JWKS file the test writes (read on every request, so the test can
rotate keys), and counts JWKS fetches at /fetches. Tokens are signed by the test itself.

    python tests/oidc_issuer.py PORT JWKS_FILE"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PORT, JWKS_FILE = int(sys.argv[1]), Path(sys.argv[2])
ISSUER = f"http://127.0.0.1:{PORT}"
fetches = 0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        global fetches
        if self.path == "/.well-known/openid-configuration":
            body = {
                "issuer": ISSUER,
                "jwks_uri": f"{ISSUER}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        elif self.path == "/jwks":
            fetches += 1
            body = json.loads(JWKS_FILE.read_text())
        elif self.path == "/fetches":
            body = {"jwks": fetches}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
