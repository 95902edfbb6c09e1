"""The `docker run` examples (the Dockerfile's header, the README's Docker section) work as written.

There is no Docker here, so each `docker run` is played by the CLI itself: the container's
environment (-e) and mounted files (-v) are given to `rq-gateway`, which runs the given command or
else the image's CMD. A command that serves stops where uvicorn would start: the example works if
the gateway got that far instead of refusing to start.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway import cli
from gateway.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
IMAGE = "rq-gateway"


def image_cmd() -> list[str]:
    (cmd,) = re.findall(r"^CMD (\[.*\])$", DOCKERFILE, flags=re.M)
    return json.loads(cmd)


def dockerfile_header_script() -> str:
    header = DOCKERFILE.split("\nFROM ", 1)[0]
    # The commands are the indented comment lines.
    return "\n".join(line[4:] for line in header.splitlines() if line.startswith("#   "))


def readme_docker_script() -> str:
    readme = (ROOT / "README.md").read_text()
    docker = readme.split("\n## Docker\n", 1)[1].split("\n### ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", docker, flags=re.S)
    return block


def commands(script: str) -> list[tuple[str, list[str]]]:
    """(line, its words) for each command line, continuation lines joined."""
    joined = script.replace("\\\n", " ")
    return [(line, shlex.split(line, comments=True)) for line in joined.splitlines() if line.strip()]


class Container:
    """One `docker run` played by the CLI, in `workdir` (the examples' $PWD)."""

    def __init__(self, argv: list[str], workdir: Path) -> None:
        self.env: dict[str, str] = {}
        mounts: dict[str, str] = {}
        args = iter(argv[2:])  # after "docker run"
        for arg in args:
            if arg in ("-e", "--env"):
                name, _, value = next(args).partition("=")
                self.env[name] = value
            elif arg in ("-v", "--volume"):
                host, container, *_ = next(args).replace("$PWD", str(workdir)).split(":")
                mounts[container] = host
            elif arg in ("-p", "--publish"):
                next(args)
            elif arg == "--rm":
                pass
            else:
                assert arg == IMAGE, f"unexpected docker run argument {arg!r}"
                break
        rest = list(args)
        self.redirect = None
        if ">" in rest:
            self.redirect = workdir / rest[rest.index(">") + 1]
            rest = rest[: rest.index(">")]
        self.argv = rest or image_cmd()
        # A mounted file is read at its path in the container: point the variable at the host's.
        self.env = {name: mounts.get(value, value) for name, value in self.env.items()}


@pytest.fixture
def play(tmp_path, monkeypatch):
    """Runs an example script; returns (settings, uvicorn.run keywords) of each command that serves."""
    served: list[tuple[Settings, dict]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.append((app.state.settings, kwargs)))
    # The examples' Redis host does not exist here; the start-up check would only warn anyway.
    monkeypatch.setattr(cli, "warn_if_unreachable", lambda settings: None)
    for name in ("REDIS_URL", "RQ_GATEWAY_API_KEYS_FILE", "RQ_GATEWAY_API_KEYS", "RQ_GATEWAY_HOST"):
        monkeypatch.delenv(name, raising=False)

    def run(script: str) -> list[tuple[Settings, dict]]:
        for line, argv in commands(script):
            if argv[:2] == ["docker", "build"]:
                continue
            if argv[:2] != ["docker", "run"]:
                subprocess.run(["bash", "-c", line], cwd=tmp_path, check=True)
                continue
            container = Container(argv, tmp_path)
            assert container.argv[0] == "rq-gateway", container.argv
            result = CliRunner().invoke(cli.main, container.argv[1:], env=container.env)
            assert result.exit_code == 0, f"{shlex.join(argv)}\n{result.output}"
            if container.redirect:
                container.redirect.write_text(result.stdout)
        return served

    return run


@pytest.mark.parametrize("script", [dockerfile_header_script, readme_docker_script])
def test_every_docker_run_example_starts_the_gateway(play, script):
    (demo, demo_call), (keyed, keyed_call) = play(script())
    assert demo.demo
    assert not keyed.demo and [key.name for key in keyed.api_keys] == ["admin"]
    assert all(call["host"] == "0.0.0.0" and call["port"] == 8000 for call in (demo_call, keyed_call))
