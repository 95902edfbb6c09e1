"""The console's files: plain ES modules served by the gateway (no bundler, nothing from another
host, no HTML parsed from strings), within the size budget of issue 11."""

from __future__ import annotations

import gzip
import re
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "gateway" / "static" / "console"
BUDGET_BYTES = 250 * 1024  # the console's own JavaScript and CSS, gzipped (GraphiQL not counted)
IMPORT = re.compile(
    r"""(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']|import\(\s*["']([^"']+)"""
)
SOURCES = sorted(p for p in CONSOLE.rglob("*") if p.suffix in (".js", ".css"))


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def test_the_console_js_and_css_fit_the_budget_gzipped():
    total = sum(gzipped_size(path) for path in SOURCES)
    assert len(SOURCES) >= 8
    assert total <= BUDGET_BYTES, f"{total} bytes gzipped"


def test_the_budget_counts_every_file_the_page_loads(client):
    """Whatever the page loads is in the total above: its stylesheet, and every module app.js
    imports, transitively, each served by the gateway as JavaScript."""
    page = client.get("/").text
    loaded = set(re.findall(r'<link rel="stylesheet" href="static/console/([^"]+\.css)"', page))
    pending = ["app.js"] if 'src="static/console/app.js"' in page else []
    while pending:
        name = pending.pop()
        if name in loaded:
            continue
        loaded.add(name)
        response = client.get(f"/static/console/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
        for match in IMPORT.finditer(response.text):
            target = match.group(1) or match.group(2)
            assert target.startswith("./") or target.startswith("../"), (name, target)
            resolved = PurePosixPath(name).parent / target
            parts: list[str] = []
            for part in resolved.parts:
                if part == "..":
                    assert parts, (name, target)  # never above the console folder
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            pending.append("/".join(parts))
    assert loaded == {path.relative_to(CONSOLE).as_posix() for path in SOURCES}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(CONSOLE).as_posix())
def test_no_file_names_another_host_or_parses_html(path):
    text = path.read_text()
    assert re.search(r"\b[a-z][a-z0-9+.-]*://", text) is None, "a URL with a host"
    assert re.search(r"url\(", text) is None or path.suffix != ".css"
    # Every text reaches the page through createTextNode or an attribute, never as markup.
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in text, sink
