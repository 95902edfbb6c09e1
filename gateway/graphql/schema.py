"""The schema: Query and Mutation merged from one module per concept."""

from __future__ import annotations

from collections.abc import Iterator

import strawberry
from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.tools import merge_types

from gateway.config import Settings
from gateway.graphql.audit import AuditQuery
from gateway.graphql.control import ControlMutation, ControlQuery
from gateway.graphql.cost import MaxCostLimiter
from gateway.graphql.errors import ErrorCodes
from gateway.graphql.execution import LeafObjectExecutionContext
from gateway.graphql.groups import GroupMutation, GroupQuery
from gateway.graphql.history import HistoryBudget
from gateway.graphql.instances import InstanceQuery
from gateway.graphql.jobs import JobMutation, JobQuery
from gateway.graphql.lifecycle import LifecycleMutation
from gateway.graphql.live import LiveSubscription, WebsocketOnly
from gateway.graphql.operations import OperationMutation, OperationQuery, OperationSubscription
from gateway.graphql.queues import QueueMutation, QueueQuery
from gateway.graphql.rq3 import Rq3Query
from gateway.graphql.schedules import ScheduleQuery
from gateway.graphql.search import SearchQuery, SearchScanBudget
from gateway.graphql.viewer import ViewerQuery
from gateway.graphql.workers import WorkerQuery

# One entry per concept module; each keeps its own resolvers.
Query = merge_types(
    "Query",
    (
        JobQuery,
        QueueQuery,
        WorkerQuery,
        GroupQuery,
        AuditQuery,
        ViewerQuery,
        SearchQuery,
        ControlQuery,
        ScheduleQuery,
        Rq3Query,
        OperationQuery,
        InstanceQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (JobMutation, QueueMutation, GroupMutation, LifecycleMutation, ControlMutation, OperationMutation),
)
Subscription = merge_types("Subscription", (LiveSubscription, OperationSubscription))


MULTIPLE_OPERATIONS = "Must provide operation name if query contains multiple operations."


class OperationNamed(SchemaExtension):
    """GraphQL's GetOperation: a document of several operations is a request error unless
    `operationName` says which to run. Strawberry ran the first one instead, so a client sending
    `query Read {...} mutation Clear {...}` without a name ran Read, and with Clear first,
    Clear. Listed after ValidationCache, whose errors it adds to (never to its cached list)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        named = getattr(context, "_provided_operation_name", None) is not None
        if document is not None and not named and not context.pre_execution_errors:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError(MULTIPLE_OPERATIONS, extensions={"code": "BAD_REQUEST"})
                context.pre_execution_errors = [error]
        yield


class _Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Expected outcomes (not found, bad input, Redis down) are answers, not server faults;
        # unexpected ones were logged with their traceback when ErrorCodes masked them.
        return None


class ParseErrorsInOperation(ParserCache):
    """ParserCache, but a document that does not parse is left unparsed instead of raising from
    the parsing hook: Strawberry then parses it again inside its own error handling and answers
    the syntax error as the operation's BAD_REQUEST. Raised from the hook, the error escaped
    `Schema.stream` (the websocket path) and the operation ended with a bare `complete` and a
    traceback in the log; `Schema.execute` (HTTP) happened to catch it."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except GraphQLError:
            context.graphql_document = None
        yield


# Dashboards send the same few queries again and again: parse and validate each text once.
schema = _Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    execution_context_class=LeafObjectExecutionContext,
    extensions=[
        ErrorCodes,
        WebsocketOnly,
        SearchScanBudget,
        HistoryBudget,
        lambda: ParseErrorsInOperation(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        OperationNamed,
    ],
)


def build_schema(
    max_depth: int,
    max_aliases: int,
    max_tokens: int,
    max_cost: int = Settings.model_fields["graphql_max_cost"].default,
    introspection: bool = True,
) -> strawberry.Schema:
    """The served schema: the same types as `schema`, plus the abuse limits of this deployment.
    The limits run before the caches, so a cached document is still one that passed them; the
    cost limit needs the variables, so it runs after the validation cache, on every operation."""
    limits = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
    ]
    if not introspection:
        limits.append(DisableIntrospection)
    return _Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=LeafObjectExecutionContext,
        extensions=[
            ErrorCodes,
            WebsocketOnly,
            SearchScanBudget,
            HistoryBudget,
            *limits,
            lambda: ParseErrorsInOperation(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            OperationNamed,
            lambda: MaxCostLimiter(max_cost),  # after the validation: see its docstring
        ],
    )
