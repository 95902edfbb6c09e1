"""The benchmark report keeps its format: BENCHMARKS.md's results section is rewritten by
`python -m bench.run --out`, so the rendered markdown must stay byte-compatible with what the
harness wrote before. tests/data/bench_report.md was rendered from tests/bench_report_inputs.py
by the report code as it stood before bench/ was split into modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report
from bench.measure_ops import OpResult
from bench.timing import Sample
from tests import bench_report_inputs as inputs

GOLDEN = Path(__file__).parent / "data" / "bench_report.md"


@pytest.fixture(autouse=True)
def fixed_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "machine", lambda: list(inputs.MACHINE))


def rendered() -> str:
    out = []
    for build in (inputs.full_run, inputs.groups_only_run):
        args, seeding, results = build(Sample, OpResult)
        out.append(report.render(args, seeding, results, inputs.STARTED, inputs.WALL))
        out.append("\n".join(report.summary(results)))
    return "\n\n<!-- next -->\n\n".join(out) + "\n"


def test_report_matches_the_format_benchmarks_md_was_written_in():
    assert rendered() == GOLDEN.read_text()


def test_write_out_replaces_only_the_results_section(tmp_path: Path):
    page = tmp_path / "BENCHMARKS.md"
    page.write_text(f"# Benchmarks\n\nprose\n\n{report.BEGIN}\nold\n{report.END}\n\nmore prose\n")

    report.write_out(page, "new body")

    assert (
        page.read_text() == f"# Benchmarks\n\nprose\n\n{report.BEGIN}\nnew body\n{report.END}\n\nmore prose\n"
    )


def test_write_out_appends_a_results_section_when_the_markers_are_missing(tmp_path: Path):
    page = tmp_path / "BENCHMARKS.md"
    page.write_text("# Benchmarks\n\nprose\n")

    report.write_out(page, "body")

    assert (
        page.read_text()
        == f"# Benchmarks\n\nprose\n\n## Latest results\n\n{report.BEGIN}\nbody\n{report.END}\n"
    )
