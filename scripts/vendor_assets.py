#!/usr/bin/env python3
"""Re-download the browser assets of GraphiQL and Swagger UI into gateway/static/vendor/.

The gateway serves these files itself, so /graphql and /docs work on a machine with no
internet access and no page makes a request that leaves the gateway's origin. Each package is
fetched at its pinned version with `npm pack` (the npm registry's ordinary client), and only the
built files the pages load are kept, byte for byte, with the package's licence beside them.

    python scripts/vendor_assets.py          # needs npm; rewrites gateway/static/vendor/

It also rewrites vendor/README.md (name, version, licence, tarball integrity of each package)
and vendor/SHA256SUMS, which tests/test_docs_pages.py checks, so an edited or missing file shows.
To upgrade a package, change its version below, run the script, and run the browser test
(tests/test_docs_browser.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "gateway" / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    licence: str
    # {path inside the npm tarball: file name under vendor/<folder>/}
    files: dict[str, str]
    # Licence texts taken from another tarball, for a package that ships none of its own:
    # {(package spec, path inside its tarball): file name}
    borrowed: dict[tuple[str, str], str] = field(default_factory=dict)
    note: str = ""

    @property
    def folder(self) -> str:
        return self.name.lstrip("@").replace("/", "-")

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


# GraphiQL 3.8.3 with React 18.2.0 and the explorer plugin 1.0.2 are the versions Strawberry's
# own GraphiQL page loads (strawberry/static/graphiql.html); swagger-ui-dist is the package
# FastAPI's /docs page loads (major version 5).
PACKAGES = [
    Package("react", "18.2.0", "MIT", {"umd/react.production.min.js": "react.production.min.js"}),
    Package("react-dom", "18.2.0", "MIT", {"umd/react-dom.production.min.js": "react-dom.production.min.js"}),
    Package(
        "graphiql",
        "3.8.3",
        "MIT",
        {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
    ),
    Package(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "MIT",
        {"dist/index.umd.js": "index.umd.js", "dist/style.css": "style.css"},
        borrowed={
            ("graphiql@3.8.3", "LICENSE"): "LICENSE",
            ("graphiql-explorer@0.9.0", "LICENSE"): "LICENSE.graphiql-explorer",
        },
        note="The tarball has no LICENSE file (its package.json says MIT). LICENSE is that of its "
        "monorepo, github.com/graphql/graphiql, taken from the graphiql 3.8.3 tarball; "
        "LICENSE.graphiql-explorer is that of graphiql-explorer 0.9.0, which index.umd.js bundles.",
    ),
    Package(
        "swagger-ui-dist",
        "5.35.0",
        "Apache-2.0",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-bundle.js.LICENSE.txt",
            "swagger-ui.css": "swagger-ui.css",
            "favicon-32x32.png": "favicon-32x32.png",
            "NOTICE": "NOTICE",
        },
    ),
]


def npm_pack(spec: str, into: Path) -> tuple[Path, dict]:
    """Download one package tarball; returns its path and npm's record of it (integrity...)."""
    out = subprocess.run(
        ["npm", "pack", "--json", "--silent", "--pack-destination", str(into), spec],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (record,) = json.loads(out)
    return into / record["filename"], record


def extract(tarball: Path, inner: str, dest: Path) -> None:
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(f"package/{inner}")
        if member is None:
            raise SystemExit(f"{tarball.name} has no file {inner}")
        dest.write_bytes(member.read())


def vendor(work: Path) -> list[tuple[Package, dict]]:
    shutil.rmtree(VENDOR, ignore_errors=True)
    done = []
    for package in PACKAGES:
        tarball, record = npm_pack(package.spec, work)
        folder = VENDOR / package.folder
        folder.mkdir(parents=True)
        files = dict(package.files)
        if not package.borrowed:
            files["LICENSE"] = "LICENSE"
        for inner, name in files.items():
            extract(tarball, inner, folder / name)
        for (spec, inner), name in package.borrowed.items():
            extract(npm_pack(spec, work)[0], inner, folder / name)
        done.append((package, record))
    return done


def write_readme(done: list[tuple[Package, dict]]) -> None:
    lines = [
        "# Vendored browser assets",
        "",
        "Served by the gateway under `/static/vendor/` so that GraphiQL (`/graphql`) and Swagger UI",
        "(`/docs`) load nothing from outside the gateway's origin. The files are the packages' own",
        "built files, unchanged, fetched from the npm registry with `npm pack` by",
        "`scripts/vendor_assets.py`, which also wrote this file and `SHA256SUMS`. Do not edit them",
        "by hand: change a version in the script and run it again.",
        "",
        "| Package | Version | Licence | Folder | Tarball integrity |",
        "|---|---|---|---|---|",
    ]
    for package, record in done:
        lines.append(
            f"| `{package.name}` | {package.version} | {package.licence} | `{package.folder}/` "
            f"| `{record['integrity']}` |"
        )
    lines.append("")
    lines.append("Each folder holds the package's licence text (`LICENSE`, and `NOTICE` where it has one).")
    lines += [
        "",
        "Source maps are not vendored. The `sourceMappingURL` comments of a few files name same-origin",
        "paths that answer 404; only a browser's developer tools ask for them.",
    ]
    for package, _ in done:
        if package.note:
            lines += ["", f"`{package.name}`: {package.note}"]
    (VENDOR / "README.md").write_text("\n".join(lines) + "\n")


def write_sums() -> None:
    sums = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(VENDOR).as_posix()}"
        for path in sorted(VENDOR.rglob("*"))
        if path.is_file() and path.name not in ("README.md", "SHA256SUMS")
    ]
    (VENDOR / "SHA256SUMS").write_text("\n".join(sums) + "\n")


def main() -> int:
    if shutil.which("npm") is None:
        print("npm is needed to download the packages", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work:
        done = vendor(Path(work))
    write_readme(done)
    write_sums()
    print(f"wrote {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
