"""Every collected test has its own node id, or the run stops before it starts.

pytest 9.2 builds a test function's node id from its original name and its parametrize callspec.
schemathesis's `schema.parametrize()` names one test per API operation (`test[GET /api/v1/...]`)
with no callspec, so all of them got the one id `test_every_documented_operation_conforms`.
pytest-xdist schedules tests by node id: under `-n 2`, 39 of the 40 operations silently never ran.
So a duplicated id is rebuilt from the test's full name, as pytest did before 9.2, and any
duplicate left is a usage error instead of a silently shorter run."""

from __future__ import annotations

from collections import Counter

import pytest


def make_unique(items: list[pytest.Item]) -> None:
    counts = Counter(item.nodeid for item in items)
    for item in items:
        if counts[item.nodeid] > 1 and item.parent is not None and not item.nodeid.endswith(f"::{item.name}"):
            # pytest's own way to name a child node (Node.__init__ without an explicit nodeid);
            # _id is private, so tests/test_node_ids.py checks the outcome on every upgrade.
            item._id = item.parent.id.child(item.name)
    duplicated = sorted(
        nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1
    )
    if duplicated:
        raise pytest.UsageError(
            f"tests share a node id, so pytest-xdist would run one of each: {duplicated[:5]}"
        )
