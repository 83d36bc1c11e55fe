"""Ratings per the national 好差评 scheme (国办发〔2019〕51号, GB/T 39734/39735-2020).

Five levels, stored as 5..1 with stable codes; the first three are good ratings (好评),
the last two bad ones (差评). A bad rating names at least one reason tag from a fixed list
and opens a rectification in the same transaction (``rectification.open_for``).

One rating per visit (a served ticket) and one per case item, whatever the channel: the
first one given stands, from the window pad, the ticket page on the phone, the kiosk or
the link in the result notice. Within ``follow_up_days`` of it the citizen may add to it
once (追评); the level itself is never changed afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.cases.calendar import WorkCalendar
from hall_ops.cases.catalogue import ServiceItem
from hall_ops.cases.models import Case, CaseItem
from hall_ops.config import HallConfig
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.evaluation.models import Rating
from hall_ops.queue import ticket_by_token
from hall_ops.queue.models import Ticket

LEVELS: dict[int, str] = {
    5: "very_satisfied",     # 非常满意
    4: "satisfied",          # 满意
    3: "basic",              # 基本满意
    2: "dissatisfied",       # 不满意
    1: "very_dissatisfied",  # 非常不满意
}
"""Level → its stable code (the API, the CSV and the platform export use both)."""
GOOD_LEVELS = frozenset({5, 4, 3})
BAD_LEVELS = frozenset({2, 1})
TAG_LEVELS = frozenset({3, 2, 1})
"""Levels that may carry reason tags; a bad one must carry at least one."""

TAGS = (
    "long_wait",           # 排队等候时间长
    "slow_service",        # 办理时间长
    "attitude",            # 服务态度差
    "unclear_guidance",    # 告知不清楚
    "too_many_materials",  # 材料要求多
    "many_trips",          # 多次跑动
    "not_done",            # 事项未办成
    "irregular_fees",      # 违规收费
    "system_fault",        # 系统故障
    "other",               # 其他
)
"""The reason tags, fixed: the figures and the platform count them by these codes."""

CHANNELS = ("window_pad", "ticket_page", "kiosk", "sms_link")
RATEABLE_ITEM_STATUSES = ("approved", "rejected")
"""An item is rated once decided: the citizen judges the result, not the wait for it."""
MAX_TEXT = 500


@dataclass(frozen=True)
class EvaluationRules:
    """``[evaluation]`` with the hall's calendar: what every step of the loop needs."""

    calendar: WorkCalendar
    timezone: ZoneInfo
    hall_code: str = "main"
    follow_up_days: int = 7
    rectify_working_days: int = 15
    link_days: int = 30
    public_url: str | None = None
    hall_manager: str | None = None
    department_managers: dict[str, str] = field(default_factory=dict)
    export: bool = False
    """A provincial platform is configured: ratings and rectifications go into the outbox."""

    @classmethod
    def from_config(cls, hall: HallConfig) -> EvaluationRules:
        section = hall.sections.evaluation
        return cls(
            calendar=hall.intake_rules.calendar,
            timezone=hall.timezone,
            hall_code=hall.sections.hall.code,
            follow_up_days=section.follow_up_days,
            rectify_working_days=section.rectify_working_days,
            link_days=section.link_days,
            public_url=section.public_url.rstrip("/") if section.public_url else None,
            hall_manager=section.hall_manager,
            department_managers=dict(section.department_managers),
            export=section.platform is not None,
        )


def level_code(level: int) -> str:
    return LEVELS[level]


def is_bad(level: int) -> bool:
    return level in BAD_LEVELS


def _checked(level: int, tags: Sequence[str], comment: str | None) -> tuple[list[str], str | None]:
    if level not in LEVELS:
        raise InvalidInput("level must be 1 to 5", code="invalid_level")
    unknown = sorted(set(tags) - set(TAGS))
    if unknown:
        raise InvalidInput(f"unknown reason tags {unknown}", code="invalid_tags")
    if tags and level not in TAG_LEVELS:
        raise InvalidInput("reason tags go with 基本满意 or lower", code="invalid_tags")
    if level in BAD_LEVELS and not tags:
        raise InvalidInput("a bad rating names at least one reason", code="tags_required")
    if comment is not None and len(comment) > MAX_TEXT:
        raise InvalidInput(f"comment is at most {MAX_TEXT} characters", code="invalid_comment")
    ordered = [t for t in TAGS if t in set(tags)]
    return ordered, (comment or "").strip() or None


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}", code="invalid_channel")
    return channel


def _after(session: Session, rules: EvaluationRules, rating: Rating, now: dt.datetime) -> None:
    """What follows any new rating: a bad one opens its rectification; both go upward."""
    from hall_ops.evaluation import export, rectification  # they import this module

    session.flush()
    if is_bad(rating.level):
        rectification.open_for(session, rules, rating, now)
    if rules.export:
        export.rating_created(session, rating, now)


def rate_visit(
    session: Session,
    rules: EvaluationRules,
    token: str,
    level: int,
    now: dt.datetime,
    *,
    tags: Sequence[str] = (),
    comment: str | None = None,
    channel: str = "ticket_page",
) -> Rating:
    """Rate a finished visit (its ticket) once; attributed to the window and clerk."""
    ticket = ticket_by_token(session, token)
    if ticket.status != "done":
        raise Conflict("only a finished service can be rated", code="not_finished")
    tags, comment = _checked(level, tags, comment)
    if session.scalars(select(Rating.id).where(Rating.ticket_id == ticket.id)).first():
        raise Conflict("this service has already been rated", code="already_rated")
    rating = Rating(
        subject="visit", ticket_id=ticket.id, window_number=ticket.window_number,
        clerk_id=ticket.clerk_id, service_code=ticket.service_code, level=level, tags=tags,
        comment=comment, channel=_channel(channel), at=now, excluded=False,
    )
    session.add(rating)
    _after(session, rules, rating, now)
    return rating


def case_item(session: Session, case_number: str, item_code: str) -> tuple[Case, CaseItem]:
    found = session.execute(
        select(Case, CaseItem).join(CaseItem, CaseItem.case_id == Case.id)
        .where(Case.number == case_number, CaseItem.item_code == item_code)
    ).first()
    if found is None:
        raise NotFound(f"no item {item_code} in case {case_number}", code="unknown_item")
    return found[0], found[1]


def rate_item(
    session: Session,
    rules: EvaluationRules,
    case_number: str,
    item_code: str,
    level: int,
    now: dt.datetime,
    *,
    tags: Sequence[str] = (),
    comment: str | None = None,
    channel: str = "sms_link",
) -> Rating:
    """Rate one decided item of a case once; attributed to its department, and to the window
    and clerk who accepted the case."""
    case, item = case_item(session, case_number, item_code)
    if item.status not in RATEABLE_ITEM_STATUSES:
        raise Conflict("only a decided item can be rated", code="not_decided")
    tags, comment = _checked(level, tags, comment)
    if session.scalars(select(Rating.id).where(Rating.case_item_id == item.id)).first():
        raise Conflict("this item has already been rated", code="already_rated")
    service = session.get(Ticket, case.ticket_id)
    rating = Rating(
        subject="item", case_item_id=item.id, case_number=case.number,
        window_number=case.window_number, clerk_id=case.clerk_id,
        service_code=service.service_code if service else None, item_code=item.item_code,
        department_code=item.department_code, level=level, tags=tags, comment=comment,
        channel=_channel(channel), at=now, excluded=False,
    )
    session.add(rating)
    _after(session, rules, rating, now)
    return rating


def add_follow_up(
    session: Session, rules: EvaluationRules, rating: Rating, text: str, now: dt.datetime
) -> Rating:
    """追评: the citizen adds to their rating once, within ``follow_up_days`` of it."""
    from hall_ops.evaluation import export

    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(f"a follow-up is 1 to {MAX_TEXT} characters", code="invalid_follow_up")
    if rating.follow_up is not None:
        raise Conflict("this rating has a follow-up already", code="already_followed_up")
    if now > rating.at + dt.timedelta(days=rules.follow_up_days):
        raise Conflict(f"a follow-up is possible for {rules.follow_up_days} days after rating",
                       code="follow_up_closed")
    rating.follow_up, rating.follow_up_at = text, now
    session.flush()
    if rules.export:
        export.rating_followed_up(session, rating, now)
    return rating


def rating_of_ticket(session: Session, token: str) -> Rating:
    ticket = ticket_by_token(session, token)
    rating = session.scalars(select(Rating).where(Rating.ticket_id == ticket.id)).first()
    if rating is None:
        raise NotFound("this service has not been rated", code="not_rated")
    return rating


def rating_of_item(session: Session, case_number: str, item_code: str) -> Rating:
    _, item = case_item(session, case_number, item_code)
    rating = session.scalars(select(Rating).where(Rating.case_item_id == item.id)).first()
    if rating is None:
        raise NotFound("this item has not been rated", code="not_rated")
    return rating


def awaiting_pad_rating(
    session: Session, window: int, now: dt.datetime, within: dt.timedelta = dt.timedelta(minutes=10)
) -> Ticket | None:
    """The window-side pad offers the service just finished there, if not rated yet."""
    return session.scalars(
        select(Ticket)
        .where(
            Ticket.window_number == window,
            Ticket.status == "done",
            Ticket.finished_at >= now - within,
            Ticket.id.not_in(select(Rating.ticket_id).where(Rating.ticket_id.is_not(None))),
        )
        .order_by(Ticket.finished_at.desc())
        .limit(1)
    ).first()


def rating_view(rating: Rating, rules: EvaluationRules, now: dt.datetime) -> dict[str, object]:
    """A rating as its citizen sees it again (no staff names)."""
    return {
        "id": rating.id, "subject": rating.subject, "level": rating.level,
        "level_code": level_code(rating.level), "tags": list(rating.tags or []),
        "comment": rating.comment, "channel": rating.channel,
        "follow_up": rating.follow_up,
        "follow_up_open": rating.follow_up is None
        and now <= rating.at + dt.timedelta(days=rules.follow_up_days),
    }


def item_ratings(session: Session, rules: EvaluationRules, case_number: str,
                 now: dt.datetime) -> list[dict[str, object]]:
    """The items of a case with their state and rating, for the rating page of the link."""
    case = session.scalars(select(Case).where(Case.number == case_number)).first()
    if case is None:
        raise NotFound("no such case", code="unknown_case")
    rows = session.execute(
        select(CaseItem, ServiceItem, Rating)
        .join(ServiceItem, ServiceItem.code == CaseItem.item_code)
        .outerjoin(Rating, Rating.case_item_id == CaseItem.id)
        .where(CaseItem.case_id == case.id).order_by(CaseItem.id)
    ).all()
    return [{
        "item_code": item.item_code, "name_zh": service_item.name_zh,
        "name_en": service_item.name_en, "department": item.department_code,
        "department_name_zh": item.department_name_zh, "status": item.status,
        "rateable": item.status in RATEABLE_ITEM_STATUSES and rating is None,
        "rating": rating_view(rating, rules, now) if rating is not None else None,
    } for item, service_item, rating in rows]


# ---------------------------------------------------------------- the link in the notice

LINK_SALT = "hall-ops.rating-link"


def _epoch(utc: dt.datetime) -> int:
    """Seconds since 1970 of a naive UTC time (``datetime.timestamp`` would take it as local)."""
    return int(utc.replace(tzinfo=dt.UTC).timestamp())


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=LINK_SALT)


def link_token(secret: str, case_number: str, rules: EvaluationRules, now: dt.datetime) -> str:
    """A signed token naming the case and when it stops working (``link_days`` from ``now``,
    on the hall's clock, so the expiry is what the hall says, not the signing machine's)."""
    until = now + dt.timedelta(days=rules.link_days)
    return _serializer(secret).dumps({"case": case_number, "until": _epoch(until)})


def link_case(secret: str, token: str, now: dt.datetime) -> str:
    """The case a rating link names, if the link is genuine and not expired at ``now``."""
    try:
        data = _serializer(secret).loads(token)
    except BadSignature as exc:
        raise NotFound("this rating link is not valid", code="invalid_rating_link") from exc
    if not isinstance(data, dict) or not isinstance(data.get("case"), str) \
            or not isinstance(data.get("until"), int):
        raise NotFound("this rating link is not valid", code="invalid_rating_link")
    if _epoch(now) > data["until"]:
        raise Conflict("this rating link has expired", code="rating_link_expired")
    return str(data["case"])


def link_url(secret: str, rules: EvaluationRules, case_number: str,
             now: dt.datetime) -> str | None:
    """The rating page of a case as the notice carries it; None without ``public_url``."""
    if rules.public_url is None:
        return None
    return f"{rules.public_url}/r/{link_token(secret, case_number, rules, now)}"
