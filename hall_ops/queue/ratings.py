"""Ratings after service (好差评): one per ticket, attached to window, clerk and item."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from hall_ops.errors import Conflict, InvalidInput
from hall_ops.queue import ticket_by_token
from hall_ops.queue.models import Rating, Ticket

SOURCES = ("ticket_page", "window_pad")


def rate(
    session: Session,
    token: str,
    score: int,
    now: dt.datetime,
    *,
    comment: str | None = None,
    complaint: bool = False,
    source: str = "ticket_page",
    item_code: str | None = None,
) -> Rating:
    """Rate a finished service once; a complaint flag is what supervision follows up."""
    ticket = ticket_by_token(session, token)
    if ticket.status != "done":
        raise Conflict("only a finished service can be rated", code="not_finished")
    if not 1 <= score <= 5:
        raise InvalidInput("score must be 1 to 5", code="invalid_score")
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", code="invalid_source")
    if comment is not None and len(comment) > 500:
        raise InvalidInput("comment is at most 500 characters", code="invalid_comment")
    if session.scalars(select(Rating.id).where(Rating.ticket_id == ticket.id)).first():
        raise Conflict("this service has already been rated", code="already_rated")
    rating = Rating(
        ticket_id=ticket.id,
        window_number=ticket.window_number,
        clerk_id=ticket.clerk_id,
        service_code=ticket.service_code,
        item_code=item_code,
        score=score,
        comment=(comment or "").strip() or None,
        complaint=complaint,
        source=source,
        at=now,
    )
    session.add(rating)
    session.flush()
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
            Ticket.id.not_in(select(Rating.ticket_id)),
        )
        .order_by(Ticket.finished_at.desc())
        .limit(1)
    ).first()


def rating_summary(session: Session, first_day: dt.date, last_day: dt.date) -> list[dict[str, Any]]:
    """Mean score, count and complaints per window and clerk over a range of days."""
    rows = session.execute(
        select(
            Rating.window_number,
            Rating.clerk_id,
            func.count(),
            func.avg(Rating.score),
            func.sum(case((Rating.complaint, 1), else_=0)),
        )
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(Ticket.day >= first_day, Ticket.day <= last_day)
        .group_by(Rating.window_number, Rating.clerk_id)
        .order_by(Rating.window_number)
    ).all()
    return [
        {
            "window": window,
            "clerk": clerk,
            "ratings": count,
            "mean_score": round(float(mean), 2),
            "complaints": int(complaints or 0),
        }
        for window, clerk, count, mean, complaints in rows
    ]
