"""The regional overview and the regional staff's session at a deployment's root."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hall_web.schemas.base import Answer, Minutes, Moment

Count = Annotated[int, Field(ge=0)]
Level = Literal["province", "city", "district", "township"]


class RegionStaff(Answer):
    login: str
    name: str
    roles: list[Literal["clerk", "approver", "manager", "admin"]]
    """The roles held over some node of the deployment."""
    nodes: dict[str, list[str]]
    """Role → the nodes its grants name (each covers the nodes below it)."""


class RegionWhoAmI(Answer):
    staff: RegionStaff | None
    csrf_token: str
    """Send it back as ``X-CSRFToken`` on every state-changing request."""


class RegionLoggedIn(Answer):
    staff: RegionStaff
    csrf_token: str


class RegionLoggedOut(Answer):
    staff: None


class HallFigures(Answer):
    """One hall now, or a node summed over its halls (``hall_ops.region.overview.Figures``)."""

    halls: Count
    unavailable: Count
    waiting: Count
    longest_wait_minutes: Minutes
    open_windows: Count
    windows: Count
    people: Count
    people_estimated: bool
    overdue_items: Count
    warning_items: Count
    ratings: Count
    good_ratings: Count
    good_rate: Annotated[float, Field(ge=0, le=1)] | None
    alerts: Count
    critical_alerts: Count


class OverviewNode(Answer):
    code: str
    name_zh: str
    name_en: str
    level: Level
    parent: str | None
    """The node above, if the viewer sees it."""
    depth: Count
    floor: bool
    own: HallFigures | None
    total: HallFigures
    available: bool
    dashboard: str | None
    """The hall's live manager dashboard (``/h/<code>/manager/dashboard``)."""


class RegionOverview(Answer):
    at: Moment
    refresh_seconds: Count
    """How often the page asks again (each hall is read at most that often)."""
    nodes: list[OverviewNode]
