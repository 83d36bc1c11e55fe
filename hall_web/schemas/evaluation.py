"""好差评: rating a visit or a case item, 追评, rectifications, appeals, figures."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hall_web.fields import Day, LongText, Whole, coded
from hall_web.schemas.base import Answer, JSONObject, Moment, Query, Request

LevelCode = Literal["very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied"]
Level = Annotated[Whole, coded("invalid_level", "a level from 1 to 5"), Field(ge=1, le=5)]
Tag = Literal["long_wait", "slow_service", "attitude", "unclear_guidance", "too_many_materials",
              "many_trips", "not_done", "irregular_fees", "system_fault", "other"]
Channel = Literal["window_pad", "ticket_page", "kiosk", "sms_link"]


class Rate(Request):
    """The five levels 5 非常满意 … 1 非常不满意; a bad one (2, 1) names its reasons."""

    level: Level
    tags: Annotated[list[Tag], coded("invalid_tags", "reason tags from the list"),
                    Field(max_length=10)] = []
    comment: Annotated[LongText, Field(max_length=500)] | None = None


class FollowUp(Request):
    text: Annotated[LongText, Field(min_length=1, max_length=500)]


class RatingView(Answer):
    id: int
    subject: Literal["visit", "item"]
    level: int
    level_code: LevelCode
    tags: list[Tag]
    comment: str | None
    channel: Channel
    follow_up: str | None
    follow_up_open: bool


class LinkItem(Answer):
    item_code: str
    name_zh: str
    name_en: str
    department: str
    department_name_zh: str
    status: str
    rateable: bool
    rating: RatingView | None


class LinkCase(Answer):
    case_number: str
    items: list[LinkItem]


class RectificationQuery(Query):
    status: Annotated[Literal["open", "closed"], coded("invalid_status", "open or closed")] \
        | None = None


class Step(Request):
    """``rectify``: the measures (text); ``call-back``: reached, and a note (text);
    ``answer``: the answer to the citizen (text)."""

    text: Annotated[LongText, Field(max_length=1000)] | None = None
    reached: Annotated[bool, Field(strict=True)] | None = None


class AppealDecision(Request):
    note: Annotated[LongText, Field(min_length=1, max_length=500)]


class Appeal(Request):
    reason: Annotated[LongText, Field(min_length=1, max_length=1000)]
    evidence: Annotated[LongText, Field(min_length=1, max_length=2000)]


class RatingOfRectification(Answer):
    id: int
    subject: Literal["visit", "item"]
    level: int
    level_code: LevelCode
    tags: list[Tag]
    comment: str | None
    follow_up: str | None
    channel: Channel
    at: Moment
    item: str | None
    service: str | None
    excluded: bool


class CallBack(Answer):
    at: Moment
    by: str | None
    reached: bool
    note: str | None


class AppealView(Answer):
    status: Literal["none", "pending", "accepted", "rejected"]
    reason: str | None
    evidence: str | None
    by: str | None
    at: Moment | None
    decided_by: str | None
    decided_at: Moment | None
    note: str | None


class Citizen(Answer):
    """Masked (张*, 138****5678)."""

    name: str | None
    phone: str | None


class RectificationView(Answer):
    id: int
    status: Literal["open", "closed"]
    owner: str | None
    department: str | None
    window: int | None
    clerk: str | None
    opened_at: Moment
    due_on: str
    overdue: bool
    closed_on: str | None
    on_time: bool | None
    rating: RatingOfRectification
    case_number: str | None
    citizen: Citizen
    measures: str | None
    rectified_at: Moment | None
    call_back: CallBack | None
    answer: str | None
    answered_at: Moment | None
    appeal: AppealView
    events: list[JSONObject] | None = None


class Rectifications(Answer):
    rectifications: list[RectificationView]


class Contact(Answer):
    """Unmasked for the owner's call-back; the read is in the security log."""

    name: str | None
    phone: str | None
    case_number: str | None


class FiguresQuery(Query):
    from_: Annotated[Day | None, Field(alias="from")] = None
    to: Day | None = None
    format: Literal["json", "csv"] = "json"
    group_by: Annotated[Literal["hall", "department", "window", "clerk", "item"],
                        coded("invalid_group", "hall, department, window, clerk or item")] \
        = "hall"


class FigureRow(Answer):
    key: str
    finished: int
    rated: int
    rating_rate: float | None
    ratings: int
    good: int
    bad: int
    excluded: int
    good_rate: float | None
    rectifications: int
    judged: int
    on_time: int
    on_time_rate: float | None
    called_back: int
    call_back_rate: float | None


class Figures(Answer):
    group_by: str
    first_day: str
    last_day: str
    rows: list[FigureRow]
