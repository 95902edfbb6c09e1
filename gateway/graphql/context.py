"""What every resolver reads from its request: the caller's service and the selection."""

from __future__ import annotations

from strawberry.types import Info

from gateway.services import JobService

# Job fields read from the results stream: fetched for a whole page in its one pipeline, and
# only when the query asks for one of them.
_RESULT_FIELDS = frozenset({"excInfo", "result"})


def service_of(info: Info) -> JobService:
    """The request's service, bound to its API key (see graphql/router.py); under
    `instance(name:)`, that instance's service, bound the same way."""
    path = info.path
    while path.prev is not None:
        path = path.prev
    # Keyed by the top-level field's response name: two `instance` fields in one query must
    # have different aliases (GraphQL refuses the same response name for different arguments).
    # A context built without instances (schema.execute in tests and library use) has only "service".
    bound = info.context.get("by_instance_field")
    return (bound and bound.get(path.key)) or info.context["service"]


def remember_instance(info: Info, name: str) -> JobService:
    """Bind instance `name` (InstanceNotFound if unknown) for the fields below this one."""
    service = info.context["bind_instance"](name)
    info.context["by_instance_field"][info.path.key] = service
    return service


def asks_for_results(selections) -> bool:
    return any(
        getattr(selection, "name", None) in _RESULT_FIELDS
        or asks_for_results(getattr(selection, "selections", ()))
        for selection in selections
    )
