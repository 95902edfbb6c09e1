"""A cheaper way to complete objects whose selected fields are all plain leaves.

A page of 100 jobs with 8 fields is 800 field executions; graphql-core spends ~10 µs on each
(resolve info, resolver wrapper, path, completion), which made a GraphQL page a half slower than
the same page over REST. For an object whose selection holds only leaf fields that Strawberry
itself would resolve by reading an attribute (no resolver, no arguments, no extensions, no
middleware, no @defer), this context reads the attributes and coerces them with the same leaf
types graphql-core would use. Anything else, and any value that would raise a field error
(null in a non-null field, a value the scalar refuses), goes through graphql-core's own path,
so results and errors are exactly what the standard executor gives."""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_STRAWBERRY_FIELD = "strawberry-definition"


class _Leaf(NamedTuple):
    response_name: str
    resolve: Any  # Strawberry's default resolver (getattr unless configured), None for __typename
    attribute: str
    leaf_type: GraphQLLeafType | None  # None for __typename
    non_null: bool


# Values these scalars pass through unchanged; anything else goes through coerce_output_value.
_PASS_THROUGH: dict[GraphQLLeafType, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}


class LeafObjectExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (object type, id(field details)) -> (field details kept alive, plan or None)
        self._leaf_plans: dict[tuple[GraphQLObjectType, int], tuple[Any, tuple[_Leaf, ...] | None]] = {}

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        plan = self._leaf_plan(return_type, field_details_list)
        if plan is not None:
            completed = _complete_leaves(plan, return_type, result)
            if completed is not None:
                return completed
        return super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )

    def _leaf_plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> tuple[_Leaf, ...] | None:
        key = (return_type, id(field_details_list))
        cached = self._leaf_plans.get(key)
        if cached is None:
            cached = (field_details_list, self._build_leaf_plan(return_type, field_details_list))
            self._leaf_plans[key] = cached
        return cached[1]

    def _build_leaf_plan(
        self, return_type: GraphQLObjectType, field_details_list: Any
    ) -> tuple[_Leaf, ...] | None:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return None
        grouped_field_set, new_defer_usages, _forbidden = self.collect_subfields(
            return_type, field_details_list
        )
        if new_defer_usages:
            return None
        plan = []
        for response_name, details in grouped_field_set.items():
            if any(detail.defer_usage is not None or detail.node.arguments for detail in details):
                return None
            field_name = details[0].node.name.value
            if field_name == "__typename":
                plan.append(_Leaf(response_name, None, "", None, True))
                continue
            field_def = return_type.fields.get(field_name)
            if field_def is None or field_def.args or not getattr(field_def.resolve, "_is_default", False):
                return None
            field = (field_def.extensions or {}).get(_STRAWBERRY_FIELD)
            leaf_type = get_nullable_type(field_def.type)
            if field is None or not field.is_basic_field or not is_leaf_type(leaf_type):
                return None
            non_null = isinstance(field_def.type, GraphQLNonNull)
            plan.append(_Leaf(response_name, field.default_resolver, field.python_name, leaf_type, non_null))
        return tuple(plan)


def _complete_leaves(
    plan: tuple[_Leaf, ...], return_type: GraphQLObjectType, source: Any
) -> dict[str, Any] | None:
    """The completed object, or None when a field needs graphql-core's error handling."""
    completed: dict[str, Any] = {}
    for response_name, resolve, attribute, leaf_type, non_null in plan:
        if resolve is None or leaf_type is None:  # __typename, the one entry without either
            completed[response_name] = return_type.name
            continue
        try:
            value = resolve(source, attribute)
            if value is None:
                if non_null:
                    return None
                completed[response_name] = None
                continue
            if type(value) is _PASS_THROUGH.get(leaf_type):
                completed[response_name] = value
                continue
            coerced = leaf_type.coerce_output_value(value)
        except Exception:
            return None
        if coerced is None or coerced is Undefined:
            return None
        completed[response_name] = coerced
    return completed
