"""The regional overview and the regional staff's session at a deployment's root."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from hall_web.schemas.base import Answer, JSONObject, Minutes, Moment, Request

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


HallCode = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$")]
HallName = Annotated[str, Field(min_length=1, max_length=120)]


class AddHall(Request):
    code: HallCode
    """In the hall's URL (``/h/<code>/``) and its database's name; never changes."""
    name_zh: HallName
    name_en: HallName
    level: Level
    parent: HallCode
    template: HallCode
    """The hall whose config (zones, services, windows, hours) the new hall starts from."""


class ChangeHall(Request):
    """Any of: new names (both), another parent, enabled or disabled."""

    name_zh: HallName | None = None
    name_en: HallName | None = None
    parent: HallCode | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> ChangeHall:
        if self.model_fields_set.isdisjoint({"name_zh", "name_en", "parent", "enabled"}):
            raise ValueError("name a change: name_zh, name_en, parent or enabled")
        return self


class AdminHall(Answer):
    code: str
    name_zh: str
    name_en: str
    level: Level
    parent: str | None
    floor: bool
    enabled: bool
    position: int
    covered: bool
    """Inside this admin's region: they may change it (or add below it)."""


class HallChangeRow(Answer):
    id: int
    at: Moment
    actor: str
    origin: str | None
    kind: Literal["added", "renamed", "disabled", "enabled", "moved"]
    hall: str
    before: JSONObject
    after: JSONObject


class HallsAdmin(Answer):
    halls: list[AdminHall]
    changes: list[HallChangeRow]
