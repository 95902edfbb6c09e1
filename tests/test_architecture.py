"""The dependency rule of ARCHITECTURE.md, checked on every import statement in gateway/.

Layers inside gateway/services/, lowest first: domain -> redis -> reads -> writes -> the top-level
modules (service.py, access.py, ...). A module may import its own layer and the layers below it,
never one above. Outside gateway/services/, code imports the package `gateway.services` (its
public face, __init__.py) and never a submodule.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"
LAYERS = ["domain", "redis", "reads", "writes"]
# Third-party packages that only the Redis side of the service layer may import.
REDIS_PACKAGES = ("redis", "rq", "fakeredis")


def layer_of(module: str) -> str | None:
    """The layer of a gateway.services module: one of LAYERS, "top", or None outside the package."""
    parts = module.split(".")
    if parts[:2] != ["gateway", "services"]:
        return None
    return parts[2] if len(parts) > 2 and parts[2] in LAYERS else "top"


def is_module(name: str) -> bool:
    path = GATEWAY.parent.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").exists()


def imports_of(module: str, source: str) -> list[str]:
    """Every module an import statement names, anywhere in the source (lazy imports too)."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            found.append(base)
            # `from gateway.services import keys` names the submodule gateway.services.keys.
            found.extend(f"{base}.{alias.name}" for alias in node.names if is_module(f"{base}.{alias.name}"))
    return found


def violations(module: str, source: str) -> list[str]:
    """The imports of `module` that break the dependency rule, as "module -> import"."""
    layer = layer_of(module)
    broken = []
    for name in imports_of(module, source):
        target = layer_of(name)
        if layer is None:  # outside the service layer: the public face only
            ok = target is None or name == "gateway.services"
        elif layer == "top":
            ok = not name.startswith("gateway.") or target is not None or name == "gateway.errors"
        else:
            allowed = LAYERS[: LAYERS.index(layer) + 1]
            if name.split(".")[0] in REDIS_PACKAGES:
                ok = layer != "domain"
            elif name.startswith("gateway."):
                ok = name == "gateway.errors" or target in allowed
            else:
                ok = True
        if not ok:
            broken.append(f"{module} -> {name}")
    return broken


def gateway_modules() -> list[tuple[str, str]]:
    modules = []
    for path in sorted(GATEWAY.rglob("*.py")):
        dotted = ".".join(path.relative_to(GATEWAY.parent).with_suffix("").parts)
        modules.append((dotted.removesuffix(".__init__"), path.read_text()))
    return modules


def test_every_import_in_gateway_keeps_the_dependency_rule():
    assert len(gateway_modules()) > 60, "the walk found the package"
    broken = [v for module, source in gateway_modules() for v in violations(module, source)]
    assert broken == []


def test_the_transports_import_neither_redis_nor_rq():
    for module, source in gateway_modules():
        if module.startswith(("gateway.rest", "gateway.graphql")):
            assert not [n for n in imports_of(module, source) if n.split(".")[0] in REDIS_PACKAGES], module


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("gateway.rest.jobs", "from gateway.services.reads.browse import STATES"),
        ("gateway.graphql.types", "from gateway.services import domain"),
        ("gateway.app", "import gateway.services.service"),
        ("gateway.services.domain.models", "import redis"),
        ("gateway.services.domain.validation", "def lazy():\n    from rq.job import Job"),
        ("gateway.services.domain.models", "from gateway.services.redis import keys"),
        ("gateway.services.domain.causes", "from gateway.config import Settings"),
        ("gateway.services.redis.keys", "from gateway.services.reads.known import ensure_known"),
        ("gateway.services.reads.browse", "from gateway.services.writes import groups"),
        ("gateway.services.writes.groups", "from gateway.services.service import JobService"),
        ("gateway.services.writes.groups", "from ..service import JobService"),
    ],
)
def test_an_import_against_the_rule_is_caught(module, source):
    assert violations(module, source) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("gateway.rest.jobs", "from gateway.services import JobInfo\nfrom gateway.errors import JobNotFound"),
        ("gateway.services.domain.filters", "from gateway.errors import InvalidParameter\nimport re"),
        ("gateway.services.redis.keys", "from rq.job import Job\nfrom gateway.services.domain import models"),
        ("gateway.services.writes.groups", "from gateway.services.reads import known\nimport redis"),
        ("gateway.services.service", "from gateway.services.writes.groups import act_on_group"),
    ],
)
def test_an_import_the_rule_allows_passes(module, source):
    assert violations(module, source) == []


ARCHITECTURE = (GATEWAY.parent / "ARCHITECTURE.md").read_text()


def test_the_architecture_page_lists_every_service_module():
    modules = {p.name for p in (GATEWAY / "services").rglob("*.py") if p.name != "__init__.py"}
    assert {name for name in modules if f"`{name}`" not in ARCHITECTURE} == set()


def test_every_file_and_name_the_architecture_page_points_to_exists():
    paths = re.findall(r"`(gateway/[\w/]+\.(?:py|lua))`", ARCHITECTURE)
    assert len(paths) > 20
    assert [path for path in paths if not (GATEWAY.parent / path).is_file()] == []
    pairs = re.findall(r"`(gateway/[\w/]+\.py)` ·\s+`([\w.]+)`", ARCHITECTURE)
    assert len(pairs) > 10
    for path, name in pairs:
        tree = ast.parse((GATEWAY.parent / path).read_text())
        defined = {
            ".".join(
                [
                    *[c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and node in c.body],
                    node.name,
                ]
            )
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        defined |= {
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        assert name in defined, f"{path} defines no {name}"


def test_the_module_table_is_one_table_with_each_module_once():
    """Merged feature by feature, the table once had a paragraph in its middle (the rows after it
    render as text) and rows listed twice."""
    section = ARCHITECTURE.split("### Where each module is", 1)[1].split("\n### ", 1)[0]
    lines = section.strip().splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("|")]
    assert rows == list(range(rows[0], rows[-1] + 1)), "a non-table line inside the module table"
    folder, seen = "", []
    for line in (lines[i] for i in rows[2:]):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        folder = cells[0] or folder
        seen.append((folder, cells[1]))
    assert len(seen) == len(set(seen)), sorted({row for row in seen if seen.count(row) > 1})
