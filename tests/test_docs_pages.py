"""The browser pages (/docs, GraphiQL at /graphql, the console at /) load every asset from the
gateway itself, carry a strict Content-Security-Policy, and their vendored files are intact,
licensed and packaged."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.docs_pages import CONTENT_SECURITY_POLICY

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "gateway" / "static"
VENDOR = STATIC / "vendor"
BASE = "http://testserver"
PAGES = {"/docs": {}, "/graphql": {"Accept": "text/html"}, "/": {}}
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".svg": ("image/svg+xml",),
}
# A URL a browser would fetch from a CSS file: url(...) or @import "...".
CSS_REFERENCE = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")
# Hosts the upstream pages load from. Any of these in a vendored file would be a runtime fetch
# (the bundles quote other URLs only in error messages and comments).
CDN = re.compile(r"https?://[^\s\"'/]*(unpkg\.com|jsdelivr\.net|googleapis\.com|gstatic\.com|cdnjs)")


class _References(HTMLParser):
    """Every URL an HTML page makes the browser fetch, and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(values[name])
        self._in_script = tag == "script" and not values.get("src")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def _references(html: str) -> _References:
    parser = _References()
    parser.feed(html)
    return parser


def _same_origin(url: str) -> bool:
    return urlsplit(url)[:2] == urlsplit(BASE)[:2]


def _fetch_asset(client, url: str) -> bytes:
    assert _same_origin(url), f"{url} leaves the origin"
    response = client.get(url)
    assert response.status_code == 200, url
    suffix = Path(urlsplit(url).path).suffix
    content_type = response.headers["content-type"].split(";")[0]
    assert content_type in CONTENT_TYPES[suffix], (url, content_type)
    return response.content


@pytest.mark.parametrize("path", PAGES)
def test_every_asset_of_a_page_is_served_by_the_gateway(client, path):
    page = client.get(path, headers=PAGES[path])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    refs = _references(page.text)
    assert len(refs.urls) >= 3, refs.urls  # the UI's script, its stylesheet, the page's bootstrap
    for ref in refs.urls:
        url = urljoin(BASE + path, ref)
        body = _fetch_asset(client, url)
        if url.endswith(".css"):
            for match in CSS_REFERENCE.finditer(body.decode()):
                inner = match.group(1) or match.group(2)
                if not inner.startswith("data:"):
                    _fetch_asset(client, urljoin(url, inner))


@pytest.mark.parametrize("path", PAGES)
def test_pages_name_no_other_host_and_run_no_inline_script(client, path):
    html = client.get(path, headers=PAGES[path]).text
    assert re.findall(r"https?://", html) == []
    assert _references(html).inline_scripts == [], "script-src 'self' would block them"


def test_the_policy_allows_this_origin_only():
    policy = {d.split()[0]: d.split()[1:] for d in CONTENT_SECURITY_POLICY.split("; ")}
    assert policy["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "connect-src"):
        assert policy[directive] == ["'self'"], directive
    for directive in ("img-src", "font-src"):
        # data: URIs are inline in the stylesheets: they are part of the page, not a request.
        assert set(policy[directive]) == {"'self'", "data:"}, directive
    assert CONTENT_SECURITY_POLICY in (ROOT / "README.md").read_text(), "README's Browser pages"


def test_every_html_answer_carries_the_policy(client):
    """Every GET route without parameters, from the schema or not, asked for by a browser."""
    app = client.app
    paths = {path for path, ops in app.openapi()["paths"].items() if "get" in ops}
    paths |= {route.path for route in app.routes if "GET" in (getattr(route, "methods", None) or ())}
    html = []
    for path in sorted(p for p in paths | {"/graphql"} if "{" not in p):
        response = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        if response.headers.get("content-type", "").startswith("text/html"):
            assert response.headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, path
            html.append(path)
    assert {"/docs", "/graphql"} <= set(html)


def test_root_is_the_console_and_redirects_to_the_docs_with_no_ui(conn):
    console = TestClient(create_app(Settings(redis_url="redis://unused"), connection=conn))
    page = console.get("/", follow_redirects=False)
    assert page.status_code == 200 and 'src="static/console/app.js"' in page.text
    off = TestClient(create_app(Settings(redis_url="redis://unused", no_ui=True), connection=conn))
    response = off.get("/", follow_redirects=False)
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/docs"
    assert off.get("/").url.path == "/docs"


def test_redoc_is_not_served(client):
    """ReDoc loads a CDN script and Google Fonts; the docs are Swagger UI only."""
    assert client.get("/redoc").status_code == 404


def test_vendored_files_are_intact_and_listed_with_their_licence():
    listed = {}
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    on_disk = {
        path.relative_to(VENDOR).as_posix()
        for path in VENDOR.rglob("*")
        if path.is_file() and path.name not in ("README.md", "SHA256SUMS")
    }
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    folders = {name.split("/")[0] for name in listed}
    readme = (VENDOR / "README.md").read_text()
    for folder in folders:
        assert (VENDOR / folder / "LICENSE").is_file(), folder
        assert f"`{folder}/`" in readme, folder


def test_no_served_file_loads_from_a_cdn():
    for path in STATIC.rglob("*"):
        if path.suffix in (".js", ".css", ".html"):
            assert CDN.search(path.read_text(errors="replace")) is None, path
        if path.suffix == ".css":
            for match in CSS_REFERENCE.finditer(path.read_text()):
                inner = match.group(1) or match.group(2)
                assert inner.startswith("data:") or "//" not in inner, (path, inner[:80])


def test_the_wheel_ships_the_static_files_and_the_lua_scripts(tmp_path):
    """CI and the Dockerfile install the package non-editable: the assets and the Lua scripts
    (gateway/services/redis/lua/, read by tests/test_scripts.py) must be package data.
    The wheel is built from what the Dockerfile copies (pyproject.toml, README.md, gateway/)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "gateway", source / "gateway", ignore=shutil.ignore_patterns("__pycache__"))
    build = "from setuptools import build_meta; print(build_meta.build_wheel('dist'))"
    out = subprocess.run(
        [sys.executable, "-c", build], cwd=source, capture_output=True, text=True, check=True
    ).stdout
    wheel = source / "dist" / out.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())
    lua = list((ROOT / "gateway" / "services").glob("*/lua/*.lua"))  # redis/lua and history/lua
    assert lua
    expected = {
        f"gateway/{p.relative_to(ROOT / 'gateway').as_posix()}"
        for p in [*STATIC.rglob("*"), *lua]
        if p.is_file()
    }
    assert expected - names == set()
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in zipfile.ZipFile(wheel).read(metadata).decode()
