"""The documented examples of a response model, to build another model's examples from."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.config import JsonDict


def examples_of(model: type[BaseModel]) -> list[JsonDict]:
    """The `examples` of the model's `json_schema_extra`, which every model that calls this sets
    as a dict (never a callable)."""
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict), f"{model.__name__} documents its examples in a dict"
    examples = extra["examples"]
    assert isinstance(examples, list)
    return [example for example in examples if isinstance(example, dict)]
