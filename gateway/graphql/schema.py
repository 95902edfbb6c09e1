"""The schema: Query and Mutation merged from one module per concept."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from gateway.graphql.errors import ErrorCodes
from gateway.graphql.execution import LeafObjectExecutionContext
from gateway.graphql.groups import GroupMutation, GroupQuery
from gateway.graphql.jobs import JobMutation, JobQuery
from gateway.graphql.lifecycle import LifecycleMutation
from gateway.graphql.queues import QueueMutation, QueueQuery
from gateway.graphql.workers import WorkerQuery

# One entry per concept module; each keeps its own resolvers.
Query = merge_types("Query", (JobQuery, QueueQuery, WorkerQuery, GroupQuery))
Mutation = merge_types("Mutation", (JobMutation, QueueMutation, GroupMutation, LifecycleMutation))


class _Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Expected outcomes (not found, bad input, Redis down) are answers, not server faults;
        # unexpected ones were logged with their traceback when ErrorCodes masked them.
        return None


# Dashboards send the same few queries again and again: parse and validate each text once.
schema = _Schema(
    query=Query,
    mutation=Mutation,
    execution_context_class=LeafObjectExecutionContext,
    extensions=[ErrorCodes, lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
)
