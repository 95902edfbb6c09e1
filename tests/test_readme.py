"""The README's curl and GraphQL examples, run as written against a demo server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import free_port, wait_ready

README = Path(__file__).resolve().parent.parent / "README.md"


RECIPES_HEADING = "\n## Operator recipes\n"


def bash_blocks(text: str | None = None) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README.read_text() if text is None else text, flags=re.S)


def _talks_to_gateway(block: str) -> bool:
    return "localhost:8000" in block and "docker" not in block


def section(title: str) -> str:
    return README.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def runnable_examples() -> list[str]:
    """Blocks that talk to a running gateway (not install, serve, docker or export commands),
    except the operator recipes, which run on their own fresh demo, and the Security section,
    which needs a keyed server (tests/realredis/test_security_e2e.py runs it)."""
    before, _, after = _split_at_recipes()
    text = (before + after).replace(section("Security"), "")
    return [block for block in bash_blocks(text) if _talks_to_gateway(block)]


def recipe_examples() -> list[str]:
    _, recipes, _ = _split_at_recipes()
    return [block for block in bash_blocks(recipes) if _talks_to_gateway(block)]


def _split_at_recipes() -> tuple[str, str, str]:
    """(README before the recipes section, the section, README after it)."""
    before, rest = README.read_text().split(RECIPES_HEADING)
    recipes, _, after = rest.partition("\n## ")
    return before, recipes, ("\n## " + after) if after else ""


def run_against_demo(examples: list[str]) -> list[str]:
    """Run each block with bash (set -euo pipefail) against a fresh demo server; their stdout."""
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
    return outputs


def _need_curl() -> None:
    if not shutil.which("curl"):
        if os.environ.get("CI") == "true":
            pytest.fail("curl is needed to run the README examples")
        pytest.skip("curl is not installed")


@pytest.mark.e2e
def test_readme_http_examples_run_against_the_demo():
    _need_curl()
    examples = runnable_examples()
    assert len(examples) >= 5, "the README lost its examples"
    # The REST walk-through clears the reports queue, so the GraphQL examples run first.
    examples.sort(key=lambda block: "/api/v1/jobs/failed/clear" in block)
    text = "\n".join(run_against_demo(examples))
    assert '"requeued_count"' in text and '"deleted_count"' in text
    assert '"retryFailedJob":{"success":true' in text.replace(" ", "")
    assert '"code":"NOT_FOUND"' in text.replace(" ", "")
    assert "HTTP/1.1 422" in text and "HTTP/1.1 404" in text
    # Worker control and Scheduling (issue 15): a replay links both jobs, suspension is undone.
    assert '"replay_of"' in text and '"suspended":false,"until":null' in text
    assert "only started (running) jobs can be stopped" in text
    assert "only scheduled or deferred jobs can be enqueued now" in text
    assert '{"schedulers":[]}' in text and '{"rate_limits":[]}' in text and '{"groups":[]}' in text
    assert "Internal server error" not in text
    # Emptying a queue: the dry run counts and deletes nothing.
    assert '{"queue_name":"default","deleted_count":' in text and '"dry_run":true}' in text
    # Tracked operations: the named id ends as an error, and the dry run counted the jobs.
    assert '"status":"succeeded"' in text and '"error":"not found in failed jobs registry"' in text
    assert '"startOperation":{"total":' in text.replace(" ", "")


@pytest.mark.e2e
def test_readme_operator_recipes_do_what_they_say_on_a_fresh_demo():
    _need_curl()
    window, last_night, bad_input, hold = (json_lines(out) for out in run_against_demo(recipe_examples()))
    # A dry run over the demo's two ConnectionErrors (default queue) changes nothing...
    assert window[0]["data"]["retryAllFailedJobs"]["requeuedCount"] == 2
    # ...so last night's recipe still finds both, and retries exactly those.
    listed = [line.split()[0] for line in last_night if isinstance(line, str)]
    (retried,) = [line for line in last_night if isinstance(line, dict)]
    assert sorted(retried["requeued_jobs"]) == sorted(listed) and len(listed) == 2
    dry, real = bad_input
    assert dry["deleted_jobs"] == real["deleted_jobs"] and len(real["deleted_jobs"]) == 1
    job_id = hold[0]["job_id"]  # the retry's answer
    assert hold[1]["message"] == f"Job {job_id} has been canceled successfully"
    assert hold[-3:] == [
        "{'queue': 'reports', 'registry': 'canceled'}",
        {
            "success": True,
            "job_id": job_id,
            "message": f"Job {job_id} has been requeued successfully",
        },
        "{'queue': 'reports', 'registry': 'queued'}",
    ]


def json_lines(output: str) -> list:
    """Output lines as text, except JSON objects, each parsed on its own (curl -s ends none of
    them with a newline, so two answers can share a line)."""
    decoder, parsed = json.JSONDecoder(), []
    for line in output.splitlines():
        if not line.startswith("{"):
            parsed.append(line)
            continue
        index = 0
        while index < len(line):
            try:
                value, index = decoder.raw_decode(line, index)
            except ValueError:  # text printed right after a JSON answer
                value, index = line[index:], len(line)
            parsed.append(value)
    return parsed
