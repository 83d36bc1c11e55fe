"""API error messages in the caller's language, translated at the edge by error code.

The domain (``hall_ops``) raises errors with a stable ``code`` and an English sentence
that names the window, ticket or case concerned, so that sentence cannot be a msgid.
The catalogue holds one message per code instead: msgctxt is the code, msgid a general
English sentence. A language the catalogue translates gets that translation; otherwise
(English) the domain's own sentence stands. The JSON shape stays ``{error, message, …}``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import pgettext


def error_msgid(code: str, english: str) -> tuple[str, str]:
    """Marks one message for pybabel (keyword ``error_msgid:1c,2``: the code is msgctxt)."""
    return code, english


ENGLISH: dict[str, str] = dict([
    # logins and access
    error_msgid("bad_credentials", "Unknown login, or wrong password or PIN"),
    error_msgid("locked", "Too many wrong attempts: locked for now; try later or ask an admin"),
    error_msgid("account_disabled", "This account is disabled"),
    error_msgid("not_clerk", "This account may not work at a window"),
    error_msgid("window_not_allowed", "This clerk may not sit at this window"),
    error_msgid("login_required", "Log in first"),
    error_msgid("forbidden", "Not allowed for this login or device"),
    # staff administration
    error_msgid("invalid_login", "A login is 2–32 lower-case letters, digits, '.', '_' or '-'"),
    error_msgid("login_taken", "This login is taken"),
    error_msgid("weak_password", "The password is too short"),
    error_msgid("invalid_pin", "A PIN has 4–8 digits"),
    error_msgid("department_required", "Choose the department of the approver"),
    error_msgid("last_admin", "The last admin must stay an enabled admin"),
    # the queue
    error_msgid("clerk_elsewhere", "This clerk is logged in at another window"),
    error_msgid("window_taken", "Another clerk is logged in at this window"),
    error_msgid("not_logged_in", "Log in at this window first"),
    error_msgid("not_at_window", "You are not logged in at this window"),
    error_msgid("window_paused", "The window is paused; resume it first"),
    error_msgid("window_busy", "Finish, transfer or mark the current ticket as a no-show first"),
    error_msgid("no_services", "This window serves no service"),
    error_msgid("no_current_ticket", "This window has no ticket in hand"),
    error_msgid("ticket_not_current", "The current ticket has changed; reload the page"),
    error_msgid("not_called", "This ticket is already being served"),
    error_msgid("recall_first",
                "Recall the ticket %(left)s more time(s) before marking it a no-show"),
    error_msgid("ticket_not_callable",
                "That number is not waiting for this window: called elsewhere, finished, or "
                "of another service"),
    error_msgid("pause_reason_required", "Choose why the window pauses"),
    error_msgid("window_closed", "That window is closed: nobody would call the ticket there"),
    error_msgid("not_missed", "Only a missed ticket can rejoin the queue"),
    error_msgid("rejoin_limit",
                "This ticket has rejoined the queue as often as allowed; please take a new "
                "ticket"),
    error_msgid("ticket_expired", "This ticket is of an earlier day; please take a new ticket"),
    error_msgid("not_serving", "Start serving the ticket before finishing it"),
    error_msgid("same_window", "A ticket cannot be transferred to its own window"),
    error_msgid("window_does_not_serve", "The target window does not serve that service"),
    error_msgid("same_service", "The ticket is already in that service"),
    error_msgid("no_target", "Choose a service or a window to transfer to"),
    error_msgid("unknown_window", "No such window"),
    error_msgid("unknown_service", "No such service"),
    error_msgid("unknown_ticket", "No such ticket"),
    error_msgid("ticket_not_waiting", "This ticket is no longer waiting"),
    error_msgid("not_citizen_facing", "This zone takes no tickets"),
    error_msgid("hall_closed", "The hall is closed; please come during opening hours"),
    error_msgid("unknown_appointment", "Unknown booking code; check it and enter it again"),
    error_msgid("appointment_not_due", "Too early or too late to check in for this appointment"),
    error_msgid("already_checked_in", "This appointment has already been checked in"),
    error_msgid("already_rated", "This service has already been rated"),
    error_msgid("not_finished", "Only a finished service can be rated"),
    error_msgid("invalid_score", "Choose a score"),
    # intake, back office, hand-off
    error_msgid("unknown_notice", "No such notice"),
    error_msgid("not_failed", "Only a notice that gave up can be sent again"),
    error_msgid("key_material_missing", "Key materials are missing: the case cannot be accepted"),
    error_msgid("invalid_applicant", "Unknown kind of applicant"),
    error_msgid("invalid_name", "Enter the applicant's name"),
    error_msgid("invalid_resident_id", "Check the resident ID number"),
    error_msgid("invalid_credit_code", "Check the unified social credit code"),
    error_msgid("invalid_phone", "Check the phone number"),
    error_msgid("invalid_email", "Check the e-mail address"),
    error_msgid("no_items", "Choose at least one item"),
    error_msgid("duplicate_item", "The same item is chosen twice"),
    error_msgid("item_not_at_window", "This window does not accept the chosen item"),
    error_msgid("unknown_item", "No such item, or it is no longer offered"),
    error_msgid("unknown_material", "The material does not belong to the chosen items"),
    error_msgid("material_twice", "A material comes on paper or as an e-licence, not both"),
    error_msgid("e_licence_not_accepted", "This material cannot be replaced by an e-licence"),
    error_msgid("unknown_case", "No such case number"),
    error_msgid("result_not_ready",
                "The result of this case is not ready yet; you will be told when it is"),
    error_msgid("already_delivered", "The result of this case has already been collected"),
    error_msgid("not_a_delivery", "The ticket in hand is not for collecting a result"),
    error_msgid("gaps_outstanding",
                "Gap materials are still outstanding: %(materials)s. Confirm with a reason to "
                "go on"),
    error_msgid("claimed_by_other", "Another approver has claimed this case"),
    error_msgid("unknown_case_item", "The case has no such item"),
    error_msgid("already_received", "This material has already been received"),
    error_msgid("invalid_transition", "This cannot be done in the current state"),
    error_msgid("reason_required", "Enter a reason"),
    error_msgid("invalid_reason", "A reason is at most 500 characters"),
    error_msgid("actor_required", "Enter the approver"),
    error_msgid("missing_field", "Fill in the required fields"),
    error_msgid("invalid_field", "A field is not in the right format"),
    # the edge (hall_web.api)
    error_msgid("bad_json", "The request body is not a JSON object"),
    error_msgid("body_too_large", "The request is too large"),
])


def translated(body: dict[str, Any]) -> dict[str, Any]:
    """The error body with its message in the request's language, when the catalogue has it.
    A message may name the error's details (``%(left)s`` recalls to go, ``%(materials)s``):
    filled from the body, a list joined the way the language lists things."""
    code = body.get("error")
    english = ENGLISH.get(code) if isinstance(code, str) else None
    if english is None:
        return body
    text = pgettext(code, english)
    if text == english:
        return body
    if "%(" in text:
        sep = ", " if text.isascii() else "、"
        values = {k: sep.join(map(str, v)) if isinstance(v, list) else v
                  for k, v in body.items()}
        try:
            text = text % values
        except (KeyError, ValueError, TypeError):
            return body
    return {**body, "message": text}
