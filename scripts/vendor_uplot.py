#!/usr/bin/env python3
"""Re-download uPlot, the console's chart library, into gateway/static/console/vendor/uplot/.

    python scripts/vendor_uplot.py          # needs npm

The console is plain ES modules under a CSP of 'self' (ARCHITECTURE.md "The console"), so the
file it imports must be a module and name no other host. uPlot ships a minified IIFE but no
minified ES module, so this script makes one from the IIFE with two mechanical edits, and
nothing else: its one-line banner (a URL) becomes a banner naming the version and licence, and
`export default uPlot;` is appended. The stylesheet and LICENSE are copied byte for byte.
VERSION beside the files records the tarball's integrity.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

VERSION = "1.6.32"
TARGET = Path(__file__).resolve().parent.parent / "gateway" / "static" / "console" / "vendor" / "uplot"


def _module(iife: str) -> str:
    banner, body = iife.split("\n", 1)
    assert re.fullmatch(r"/\*! \S+ \(v" + re.escape(VERSION) + r"\) \*/", banner), banner
    assert body.startswith("var uPlot="), "the IIFE no longer assigns `var uPlot`"
    banner = f"/*! uPlot v{VERSION}, MIT licence (LICENSE beside this file) */"
    return f"{banner}\n{body.rstrip()}\nexport default uPlot;\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["npm", "pack", f"uplot@{VERSION}", "--loglevel=error"], cwd=work, check=True)
        tarball = Path(work) / f"uplot-{VERSION}.tgz"
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        with tarfile.open(tarball) as archive:

            def read(name: str) -> bytes:
                member = archive.extractfile(f"package/{name}")
                assert member is not None, name
                return member.read()

            TARGET.mkdir(parents=True, exist_ok=True)
            (TARGET / "uPlot.min.js").write_text(_module(read("dist/uPlot.iife.min.js").decode()))
            (TARGET / "uPlot.min.css").write_bytes(read("dist/uPlot.min.css"))
            (TARGET / "LICENSE").write_bytes(read("LICENSE"))
        (TARGET / "VERSION").write_text(f"uplot {VERSION} {digest}\n")
        print(f"uplot {VERSION} {digest}")


if __name__ == "__main__":
    main()
