"""Instances (gateway/services/instances.py): INSTANCE:QUEUE key patterns, over every mix of
plain and instance-bound patterns: a key reaches on each instance exactly the queues its plain
patterns and that instance's patterns allow, and nothing on an instance its patterns skip."""

from __future__ import annotations

import fakeredis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import InstanceNotFound
from gateway.services import Instances, JobService, Principal, Role

NAMES = ("default", "b", "c")
queues = st.sampled_from(["billing", "mail", "b", "x:y", "default"])
patterns = st.lists(
    st.tuples(st.sampled_from([None, *NAMES, "zz"]), st.sampled_from(["billing", "m*", "*", "x:*", "b"])),
    max_size=4,
)


@pytest.fixture(scope="module")
def instances() -> Instances:
    return Instances({name: JobService(fakeredis.FakeRedis(), instance=name) for name in NAMES})


@given(patterns, st.sampled_from(NAMES), queues)
def test_instance_patterns_apply_to_their_instance_only(instances, given_patterns, instance, queue):
    raw = tuple(
        queue_pattern if where is None else f"{where}:{queue_pattern}"
        for where, queue_pattern in given_patterns
    )
    principal = Principal("k", Role.VIEWER, raw)
    seen = instances.principal_for(principal, instance)
    from fnmatch import fnmatchcase

    # What the key means: "zz" is no instance, so "zz:..." is a plain queue pattern.
    applying = [p for w, p in given_patterns if w == instance] + [
        p if w is None else f"{w}:{p}" for w, p in given_patterns if w not in NAMES
    ]
    expected = not raw or any(fnmatchcase(queue, p) for p in applying)
    assert seen.may_access_queue(queue) == expected
    assert instances.may_access(principal, instance) == (not raw or bool(applying))


def test_unknown_instance(instances):
    with pytest.raises(InstanceNotFound, match="'nope' is not configured"):
        instances.service("nope")
    assert instances.service(None) is instances.service("default")
