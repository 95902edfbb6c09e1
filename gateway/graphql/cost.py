"""The GraphQL cost limit: how much data a query may ask for, computed before it runs.

Depth, alias and token limits do not bound an answer: 30 aliases of `failedJobs(first: 1000)
{ nodes { excInfo } }` fit in 2.4 KB and answered 190 MB. The cost of an operation is the number
of objects its answer may hold, each object counting 1 plus the weight of the heavy fields it
selects (tracebacks, results, arguments), multiplied by the sizes of the lists it sits in:

- a list inside a connection (`nodes`, `edges`) holds `first` items (its value after variables
  and defaults are applied; `first: null` is the resolvers' default page of 100);
- any other list of objects (`queues`, `workers`, failure `groups`) counts as LIST_ESTIMATE items;
- introspection (`__schema`, `__type`) costs nothing: its answer is bounded by the schema.

Aliases, fragments and repeated fields all count, since each is answered (and rendered) again.
@skip/@include are not evaluated: a field that might be answered counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

# The resolvers' page size when `first` is null.
DEFAULT_PAGE = 100
# Lists without `first` (queues, workers, failure groups) are not bounded by the query.
LIST_ESTIMATE = 1000
# Lists whose size is known better than LIST_ESTIMATE: a cron job's history shows its newest 20
# runs and a rate limit or job group its first 100 jobs (bounds); deployments run a few
# CronSchedulers with tens of cron jobs (estimates, as LIST_ESTIMATE is: the data is the
# operator's, and aliases still multiply the cost).
LIST_SIZES: dict[tuple[str, str], int] = {
    ("CronView", "schedulers"): 5,
    ("CronScheduler", "cronJobs"): 50,
    ("CronJob", "history"): 20,
    ("Query", "rateLimits"): 50,  # an estimate: one key per rate-limited API or resource
    ("RateLimit", "allowed"): 100,
    ("RateLimit", "waiting"): 100,
    ("JobGroup", "jobs"): 100,
}
# Extra cost per object of a field that can be large: a traceback can be 50 KB.
HEAVY_FIELDS: dict[tuple[str, str], int] = {
    ("Job", "excInfo"): 10,
    ("Job", "result"): 10,
    ("Job", "args"): 5,
    ("Job", "kwargs"): 5,
    ("Job", "description"): 5,
}
_FREE = {"__typename", "__schema", "__type"}

_Composite = GraphQLObjectType | GraphQLInterfaceType


class CostUnknown(Exception):
    """The operation cannot be costed (no such operation, bad variables): execution will refuse
    it with its own error, before any resolver runs."""


def operation_cost(
    schema: GraphQLSchema,
    document: Any,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The cost of the operation `operation_name` of a validated document (see module doc)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        raise CostUnknown
    values = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(values, list):
        raise CostUnknown
    root = schema.get_root_type(operation.operation)
    if root is None:
        raise CostUnknown
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _Walk(schema, fragments, values).cost(root, operation.selection_set, page=None)


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: Any
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def cost(self, parent: _Composite, selections: SelectionSetNode, page: int | None) -> int:
        """Cost of one object's selections; `page` is the `first` of the connection it is."""
        total = 0
        for node, owner in self._fields(parent, selections):
            name = node.name.value
            if name in _FREE:
                continue
            field = owner.fields.get(name)
            if field is None:  # validated documents name existing fields; defensive
                continue
            named = get_named_type(field.type)
            if not isinstance(named, _Composite):
                total += HEAVY_FIELDS.get((owner.name, name), 0)
                continue
            count = 1
            if is_list_type(get_nullable_type(field.type)):
                count = LIST_SIZES.get((owner.name, name)) or (LIST_ESTIMATE if page is None else page)
            child_page = self._first(field, node)
            assert node.selection_set is not None  # validated: objects have selections
            total += count * (1 + self.cost(named, node.selection_set, child_page))
        return total

    def _first(self, field: Any, node: FieldNode) -> int | None:
        if "first" not in field.args:
            return None
        try:
            first = get_argument_values(field, node, self.variables).get("first")
        except GraphQLError:
            raise CostUnknown from None
        return DEFAULT_PAGE if first is None else max(0, int(first))

    def _fields(self, parent: _Composite, selections: SelectionSetNode) -> Iterator[tuple[FieldNode, Any]]:
        """Each field node with the type that defines it, through inline fragments and spreads
        (fragments cannot form cycles in a validated document)."""
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                yield from self._fields(self._condition(parent, selection), selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    yield from self._fields(self._condition(parent, fragment), fragment.selection_set)

    def _condition(self, parent: _Composite, fragment: InlineFragmentNode | FragmentDefinitionNode) -> Any:
        condition = fragment.type_condition
        named = self.schema.get_type(condition.name.value) if condition is not None else None
        return named if isinstance(named, _Composite) else parent


def cost_error(cost: int, max_cost: int) -> GraphQLError:
    return GraphQLError(
        f"Query cost {cost} exceeds the limit of {max_cost}: ask for fewer jobs (a smaller `first`, "
        "fewer aliases) or fewer heavy fields (excInfo, result, args, kwargs, description)",
        extensions={"code": "BAD_REQUEST", "cost": cost, "maxCost": max_cost},
    )


class MaxCostLimiter(SchemaExtension):
    """Refuses, before any resolver runs, an operation whose cost is over `max_cost`: as a
    validation error, so every transport answers it the same way. (Set as the execution's
    result in on_execute, as it was, the refusal held over HTTP but Strawberry's subscription
    path ignores that result and subscribed anyway; raised from on_execute, the hooks entered
    before it are never closed.) It must come after ValidationCache in the schema's extensions:
    it runs once the document is known valid, and the cost depends on the variables, so it is
    not cached with the document's validation."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors == []:
            try:
                cost = operation_cost(
                    context.schema._schema,
                    context.graphql_document,
                    context.variables,
                    context.operation_name,
                )
            except CostUnknown:
                cost = 0
            if cost > self.max_cost:
                context.pre_execution_errors = [cost_error(cost, self.max_cost)]
        yield
