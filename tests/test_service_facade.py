"""JobService is composed of one mixin per feature (gateway/services/facade/). Composition has two
silent failure modes that no behaviour test names: a mixin written but left out of JobService's
bases (its methods are simply missing), and one name defined by two mixins (the MRO quietly picks
one, so the other method, and its access declaration, are never called)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from gateway.services import JobService, facade
from gateway.services.facade.core import ServiceCore


def facade_mixins() -> set[type]:
    """Every ServiceCore subclass defined in gateway/services/facade/."""
    found = set()
    for info in pkgutil.iter_modules(facade.__path__):
        module = importlib.import_module(f"{facade.__name__}.{info.name}")
        found |= {
            kind
            for kind in vars(module).values()
            if inspect.isclass(kind) and issubclass(kind, ServiceCore) and kind.__module__ == module.__name__
        }
    return found


def defined_twice(cls: type) -> dict[str, list[str]]:
    """Names (dunders aside) that more than one of the class's service-layer bases defines."""
    owners: dict[str, list[str]] = {}
    for base in cls.__mro__:
        if base.__module__.startswith("gateway.services"):
            for name in vars(base):
                if not (name.startswith("__") and name.endswith("__")):
                    owners.setdefault(name, []).append(base.__name__)
    return {name: bases for name, bases in owners.items() if len(bases) > 1}


def test_every_facade_mixin_is_composed_into_job_service():
    mixins = facade_mixins()
    assert len(mixins) > 10, "the walk found the mixins"
    assert mixins - set(JobService.__mro__) == set()


def test_no_two_parts_of_job_service_define_the_same_name():
    assert defined_twice(JobService) == {}


def test_a_name_defined_by_two_mixins_is_caught():
    class Reads(ServiceCore):
        def stats(self) -> int:
            return 1

    class Shadowed(ServiceCore):
        def stats(self) -> int:
            return 2

    Reads.__module__ = Shadowed.__module__ = "gateway.services.facade.example"

    class Composed(Reads, Shadowed):
        pass

    assert defined_twice(Composed) == {"stats": ["Reads", "Shadowed"]}
