"""Where a case's result goes: collected at this hall's delivery window (统一出件), collected
at another hall of the deployment the citizen chose (跨域通办), or by post (邮寄送达).

The choice is made at intake and may be changed later at a window on the citizen's request;
every choice is kept with the clerk who recorded it (``case_delivery_choices``). The other
halls a citizen may choose are the deployment's (``hall_ops.region.directory``): a
single-hall installation has none, and "another hall" is refused there. A choice can no
longer change once the result left: handed over, mailed, or sent to the other hall (from
its first try on: that hall may already hold it).

Functions run inside the caller's write transaction. The postal address is personal data:
encrypted at rest (``EncryptedJSON``), masked on screens (``mask_address``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.cases.models import DELIVERY_MODES, Case, Delivery, DeliveryChoice, HallTransfer
from hall_ops.clock import iso_utc
from hall_ops.errors import Conflict, InvalidInput, NotFound

POSTCODE = re.compile(r"\d{6}")
S10 = re.compile(r"([A-Z]{2})(\d{8})(\d)([A-Z]{2})")
"""UPU S10 item identifiers (EMS, registered post: ``EA123456785CN``), with a check digit."""
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
DOMESTIC = re.compile(r"[A-Z]{0,4}\d{10,20}")
"""Domestic express waybills: digits, some with a carrier prefix (``SF1234567890123``)."""


@dataclass(frozen=True)
class Destination:
    mode: str = "hall"
    hall: str | None = None
    """``other_hall``: the code of the collecting hall."""
    address: str | None = None
    postcode: str | None = None


HERE = Destination()
"""Collected at this hall's delivery window: the default."""


def check_destination(choice: Destination, other_halls: Collection[str] | None) -> Destination:
    """The choice normalised, or ``InvalidInput``. ``other_halls``: codes of the deployment's
    other halls with a floor; None in a single-hall installation."""
    if choice.mode not in DELIVERY_MODES:
        raise InvalidInput(f"delivery must be one of {', '.join(DELIVERY_MODES)}",
                           code="invalid_delivery")
    if choice.mode == "hall":
        return HERE
    if choice.mode == "other_hall":
        if not other_halls:
            raise InvalidInput("this installation has no other hall to deliver at",
                               code="no_other_halls")
        code = (choice.hall or "").strip()
        if code not in other_halls:
            raise InvalidInput(f"no other hall {code!r} in this deployment", code="unknown_hall")
        return Destination("other_hall", hall=code)
    address = " ".join((choice.address or "").split())
    if not 6 <= len(address) <= 200:
        raise InvalidInput("the postal address is required (6 to 200 characters)",
                           code="invalid_address")
    postcode = (choice.postcode or "").strip()
    if not POSTCODE.fullmatch(postcode):
        raise InvalidInput("the postcode has six digits", code="invalid_postcode")
    return Destination("post", address=address, postcode=postcode)


def record_destination(
    session: Session, case: Case, choice: Destination, actor: str, now: dt.datetime,
    reason: str | None = None,
) -> None:
    """Set the case's choice (checked by ``check_destination``) and add it to its history."""
    address = ({"address": choice.address, "postcode": choice.postcode}
               if choice.mode == "post" else None)
    case.delivery_mode, case.delivery_hall, case.delivery_address = (
        choice.mode, choice.hall, address)
    session.add(DeliveryChoice(
        case_id=case.id, at=now, mode=choice.mode, hall_code=choice.hall, address=address,
        actor=actor, reason=(reason or "").strip()[:300] or None,
        origin=session.info.get("origin"),
    ))


def enqueue_transfer(session: Session, case: Case, now: dt.datetime) -> HallTransfer:
    """The ready result of a case to be collected at another hall goes to the outbox (in the
    transaction that records it ready, or that changes the choice of a ready case)."""
    assert case.delivery_mode == "other_hall" and case.delivery_hall
    row = session.scalars(select(HallTransfer).where(HallTransfer.case_id == case.id)).first()
    if row is None:
        row = HallTransfer(case_id=case.id, to_hall=case.delivery_hall, status="pending",
                           attempts=0, next_attempt_at=now, created_at=now)
        session.add(row)
    else:  # cancelled before its first try, now chosen again
        row.to_hall, row.status, row.attempts = case.delivery_hall, "pending", 0
        row.next_attempt_at, row.last_error = now, None
    return row


def change_destination(
    session: Session, case_number: str, choice: Destination, actor: str, now: dt.datetime,
    reason: str | None = None,
) -> Case:
    """The citizen asks at a window to have the result elsewhere (``choice`` checked)."""
    case = session.scalars(
        select(Case).where(Case.number == case_number).with_for_update()).first()
    if case is None:
        raise NotFound(f"no case {case_number}", code="unknown_case")
    delivery = session.scalars(select(Delivery).where(Delivery.case_id == case.id)).first()
    if delivery is not None and (delivery.handed_over_at or delivery.mailed_at):
        raise Conflict(f"the result of {case_number} has been handed over",
                       code="already_delivered")
    transfer = session.scalars(
        select(HallTransfer).where(HallTransfer.case_id == case.id).with_for_update()).first()
    if transfer is not None and transfer.status != "cancelled":
        if transfer.status == "landed" or transfer.attempts > 0:
            raise Conflict(f"the result of {case_number} was sent to hall {transfer.to_hall}",
                           code="sent_to_other_hall", hall=transfer.to_hall)
        transfer.status = "cancelled"
    record_destination(session, case, choice, actor, now, reason)
    if delivery is not None and choice.mode == "other_hall":
        enqueue_transfer(session, case, now)
    return case


# ---------------------------------------------------------------- by post


def check_tracking_number(text: str) -> str:
    """A postal tracking number, normalised (upper case, no spaces or dashes), or
    ``InvalidInput``: an S10 identifier with a right check digit, or a domestic waybill."""
    number = re.sub(r"[\s-]", "", text or "").upper()
    s10 = S10.fullmatch(number)
    if s10:
        total = sum(int(d) * w for d, w in zip(s10.group(2), S10_WEIGHTS, strict=True))
        check = 11 - total % 11
        check = {10: 0, 11: 5}.get(check, check)
        if int(s10.group(3)) != check:
            raise InvalidInput("the tracking number's check digit is wrong",
                               code="invalid_tracking_number")
        return number
    if not DOMESTIC.fullmatch(number):
        raise InvalidInput("not a tracking number (S10 such as EA123456785CN, or a waybill "
                           "of 10 to 20 digits)", code="invalid_tracking_number")
    return number


def mask_address(address: str) -> str:
    """Province and city stay (the first few characters), the street and number are hidden."""
    keep = min(6, len(address) // 3)
    return address[:keep] + "****"


def destination_view(
    session: Session, case: Case, *, unmasked: bool, names: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """Where the result goes and where it went, for the case's page. ``names``: hall code →
    (name_zh, name_en) of the deployment's halls (empty in a single-hall installation)."""
    delivery = session.scalars(select(Delivery).where(Delivery.case_id == case.id)).first()
    transfer = session.scalars(
        select(HallTransfer).where(HallTransfer.case_id == case.id)).first()
    address = dict(case.delivery_address) if case.delivery_address else None
    if address is not None and not unmasked:
        address["address"] = mask_address(address["address"])

    def hall(code: str | None) -> dict[str, str] | None:
        if code is None:
            return None
        zh, en = names.get(code, (code, code))
        return {"code": code, "name_zh": zh, "name_en": en}

    if delivery is None:
        state = "not_ready"
    elif delivery.handed_over_at is not None:
        state = "handed_over"
    elif delivery.mailed_at is not None:
        state = "mailed"
    elif case.delivery_mode == "other_hall":
        state = "at_other_hall" if transfer and transfer.status == "landed" else "sending"
    else:
        state = "ready"
    history = session.scalars(select(DeliveryChoice).where(DeliveryChoice.case_id == case.id)
                              .order_by(DeliveryChoice.id)).all()
    return {
        "mode": case.delivery_mode,
        "hall": hall(case.delivery_hall),
        "address": address,
        "state": state,
        "tracking_number": delivery.tracking_number if delivery else None,
        "mailed_at": iso_utc(delivery.mailed_at if delivery else None),
        "handed_over_at": iso_utc(delivery.handed_over_at if delivery else None),
        "handed_over_hall": hall(delivery.delivered_hall) if delivery else None,
        "handed_over_window": delivery.window_number if delivery else None,
        "choices": [{"at": iso_utc(c.at), "mode": c.mode, "hall": c.hall_code, "actor": c.actor,
                     "reason": c.reason} for c in history],
    }
