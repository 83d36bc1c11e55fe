"""Base classes of the models (see the package's docstring for the rules)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """An answer whose records may carry more fields than listed."""

    model_config = ConfigDict(extra="allow")


Moment = dt.datetime
"""A moment in ISO 8601 with its offset (UTC), as ``hall_ops.clock.iso_utc`` writes it."""
Minutes = Annotated[float, Field(ge=0)]
JSONObject = dict[str, Any]
