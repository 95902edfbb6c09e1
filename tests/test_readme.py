"""The README's curl and GraphQL examples, run as written against a demo server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import free_port, wait_ready

README = Path(__file__).resolve().parent.parent / "README.md"


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)


def runnable_examples() -> list[str]:
    """Blocks that talk to a running gateway (not install, serve, docker or export commands)."""
    return [block for block in bash_blocks() if "localhost:8000" in block and "docker" not in block]


@pytest.mark.e2e
def test_readme_http_examples_run_against_the_demo():
    if not shutil.which("curl"):
        if os.environ.get("CI") == "true":
            pytest.fail("curl is needed to run the README examples")
        pytest.skip("curl is not installed")
    examples = runnable_examples()
    assert len(examples) >= 5, "the README lost its examples"
    # The REST walk-through clears the reports queue, so the GraphQL examples run first.
    examples.sort(key=lambda block: "/api/v1/jobs/failed/clear" in block)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    outputs = []
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        for block in examples:
            script = "set -euo pipefail\n" + block.replace("localhost:8000", f"127.0.0.1:{port}")
            done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, f"{block}\n--- stderr:\n{done.stderr}"
            outputs.append(done.stdout)
    finally:
        server.terminate()
        server.communicate(timeout=15)
    text = "\n".join(outputs)
    assert '"requeued_count"' in text and '"deleted_count"' in text
    assert '"retryFailedJob":{"success":true' in text.replace(" ", "")
    assert '"code":"NOT_FOUND"' in text.replace(" ", "")
    assert "HTTP/1.1 422" in text and "HTTP/1.1 404" in text
    assert "Internal server error" not in text
