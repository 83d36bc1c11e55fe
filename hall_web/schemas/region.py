"""The deployment's root: its halls (``GET /api/v1/halls``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hall_web.schemas.base import Answer, Query

Level = Literal["province", "city", "district", "township"]
HallCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]{0,31}$")]


class HallsQuery(Query):
    level: Level | None = None
    """Only nodes of this level."""
    parent: HallCode | None = None
    """Only the nodes directly under this one."""
    floor: bool | None = None
    """true: only halls with a floor (a queue, screens); false: only regions."""


class HallNode(Answer):
    code: str
    name_zh: str
    name_en: str
    level: Level
    parent: str | None
    floor: bool
    url: str | None
    """The hall's pages (``/h/<code>/``); none for a region without a floor."""


class HallList(Answer):
    name_zh: str
    name_en: str
    halls: list[HallNode]
