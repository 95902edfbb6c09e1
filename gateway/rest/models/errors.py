"""The body of every error answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    detail: str = Field(examples=["Job abc-123 not found in failed jobs registry"])
