"""What a result was measured on: the machine, the versions of everything involved, and the
gateway's git commit. Printed at the top of every benchmark report (run and load)."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import redis
import rq

from bench.infra import REPO


def version_of(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine() -> list[str]:
    from importlib.metadata import version

    import fastapi
    import strawberry  # noqa: F401
    import uvicorn

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    redis_version = version_of([shutil.which("redis-server") or "redis-server", "--version"])
    redis_version = re.search(r"v=(\S+)", redis_version).group(1) if "v=" in redis_version else redis_version
    return [
        f"- Machine: {os.cpu_count()} cores (`nproc`), {cpu}, {int(mem) // 1024:,} MB RAM, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, redis-server {redis_version}, rq {rq.__version__}, "
        f"redis-py {redis.__version__} (hiredis {'yes' if _has_hiredis() else 'no'}), "
        f"fastapi {fastapi.__version__}, uvicorn {uvicorn.__version__}, "
        f"strawberry-graphql {version('strawberry-graphql')}, httpx {httpx.__version__}, "
        f"{version_of([shutil.which('wrk') or 'wrk', '--version']).split(' Copyright')[0]}",
    ]


def gateway_revision() -> str:
    head = version_of(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    try:
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "gateway"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        dirty = ""
    return f"`{head}`" + (" with uncommitted changes under gateway/" if dirty else "")


def _has_hiredis() -> bool:
    try:
        import hiredis  # noqa: F401
    except ImportError:
        return False
    return True
