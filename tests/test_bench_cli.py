"""Every `python -m bench.run ...` command line the docs show, and every option in bench/README.md's
table, is still accepted by the command line with the meaning the docs give it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bench.run import parse_args

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "BENCHMARKS.md", "bench/README.md"]


def documented_commands() -> list[str]:
    commands = set()
    for name in DOCS:
        for match in re.finditer(r"python -m bench\.run([^`#\n]*)", (ROOT / name).read_text()):
            commands.add(match.group(1).strip())
    return sorted(commands)


def test_the_docs_show_command_lines():
    assert {"", "--with-100k --out BENCHMARKS.md", "--sizes 10000 --only groups"} <= set(
        documented_commands()
    )


@pytest.mark.parametrize("command", documented_commands())
def test_a_documented_command_line_parses(command: str):
    args = parse_args(shlex.split(command))

    assert args.sizes_list, command
    assert args.command == f"python -m bench.run {command}".strip()


def test_the_documented_meanings():
    assert parse_args([]).sizes_list == [1000, 10_000]
    assert parse_args(["--with-100k"]).sizes_list == [1000, 10_000, 100_000]
    only = parse_args(["--sizes", "10000", "--only", "groups"])
    assert (only.sizes_list, only.only) == ([10_000], "groups")
    assert parse_args(["--only", "stats"]).only == "stats"


def test_every_option_in_the_readme_table_is_accepted():
    table = (ROOT / "bench/README.md").read_text().split("| Option |", 1)[1].split("\n\n", 1)[0]
    options = re.findall(r"^\| `(--[a-z0-9-]+)(?: (\w+))?`", table, re.M)
    assert len(options) >= 10
    values = {"--sizes": "100", "--out": "out.md"}
    for option, fixed_value in options:
        argv = [option] if option == "--with-100k" else [option, fixed_value or values.get(option, "3")]
        parse_args(argv)  # argparse exits on an unknown option or a bad value


def test_sizes_below_100_are_refused():
    with pytest.raises(SystemExit):
        parse_args(["--sizes", "10"])
