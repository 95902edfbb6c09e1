"""Limits one GraphQL operation's fields share, as one REST request has them: --search-scan-limit
for the `searchJobs` fields, 31 days of minutes for the `history` fields. The fields of one kind
take turns, in the order they start (the document's), each with what the ones before it left."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextvars import ContextVar
from typing import ClassVar

from strawberry.extensions import SchemaExtension


class Budget:
    """What an executing operation's fields of one kind have left; `turn` orders them."""

    def __init__(self, left: int | None) -> None:
        self.turn = asyncio.Lock()
        self.left = left


class OperationBudget(SchemaExtension):
    """Sets `budget` to a fresh Budget of `start` for each executed operation. A subclass names
    its own ContextVar; a field reads it, and finds None in a schema built without the subclass."""

    budget: ClassVar[ContextVar[Budget | None]]
    start: ClassVar[int | None] = None

    def on_execute(self) -> Iterator[None]:
        token = self.budget.set(Budget(self.start))
        try:
            yield
        finally:
            self.budget.reset(token)
