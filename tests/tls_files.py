"""A throwaway certificate authority for the TLS tests, made with the openssl CLI: a CA, a server
certificate for 127.0.0.1/localhost, and a client certificate (mutual TLS), all signed by it;
plus a second, unrelated CA, whose trust the server's certificate must fail."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    _openssl(
        *("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
        *("-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}"),
        cwd=directory,
    )
    return cert, key


def _signed(directory: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    cert, key, request = directory / f"{name}.crt", directory / f"{name}.key", directory / f"{name}.csr"
    ext = directory / f"{name}.ext"
    ext.write_text(extensions)
    _openssl(
        *("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
        *("-keyout", str(key), "-out", str(request), "-subj", f"/CN={name}"),
        cwd=directory,
    )
    _openssl(
        *("x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1])),
        *("-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext)),
        cwd=directory,
    )
    return cert, key


def make_tls_files(directory: Path) -> TlsFiles:
    if shutil.which("openssl") is None:
        pytest.skip("the TLS tests make their certificates with the openssl CLI, which is not on PATH")
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca(directory, "test-ca")
    server = _signed(
        directory, "server", ca, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    )
    client = _signed(directory, "client", ca, "extendedKeyUsage=clientAuth\n")
    other_ca, _ = _ca(directory, "other-ca")
    return TlsFiles(ca[0], server[0], server[1], client[0], client[1], other_ca)
