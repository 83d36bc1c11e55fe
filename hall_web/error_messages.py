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
    error_msgid("nothing_to_announce", "No called ticket at this window to announce again"),
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
    error_msgid("sms_unavailable", "This hall sends no SMS reminders"),
    error_msgid("printer_out_of_paper",
                "The ticket printer is out of paper: no ticket can be issued here now; "
                "please ask the staff"),
    error_msgid("printer_offline",
                "The ticket printer does not answer: no ticket can be issued here now; "
                "please ask the staff"),
    error_msgid("unknown_appointment", "Unknown booking code; check it and enter it again"),
    error_msgid("appointment_not_due", "Too early or too late to check in for this appointment"),
    error_msgid("already_checked_in", "This appointment has already been checked in"),
    error_msgid("remote_tickets_off", "This hall does not take tickets before you arrive"),
    error_msgid("not_remote", "This ticket is not waiting for a check-in: it is in the queue "
                "already, or finished"),
    error_msgid("remote_ticket_lapsed", "This ticket was not checked in in time and has lapsed; "
                "please take a new ticket"),
    error_msgid("already_rated", "This service has already been rated"),
    error_msgid("not_finished", "Only a finished service can be rated"),
    # 好差评 and its rectifications
    error_msgid("invalid_level", "Choose how satisfied you are"),
    error_msgid("invalid_tags", "Reasons go with 'basically satisfied' or lower, from the list"),
    error_msgid("tags_required", "Choose at least one reason"),
    error_msgid("invalid_comment", "A comment is at most 500 characters"),
    error_msgid("not_decided", "Only a decided item can be rated"),
    error_msgid("not_rated", "This has not been rated"),
    error_msgid("invalid_follow_up", "Write what you want to add (at most 500 characters)"),
    error_msgid("already_followed_up", "You have already added to this rating"),
    error_msgid("follow_up_closed", "The time to add to this rating is over"),
    error_msgid("invalid_rating_link", "This rating link is not valid"),
    error_msgid("rating_link_expired", "This rating link has expired"),
    error_msgid("unknown_rectification", "No such rectification"),
    error_msgid("rectification_closed", "This rectification is closed"),
    error_msgid("not_owner", "Only the rectification's owner may do this"),
    error_msgid("step_done", "This step has been recorded already"),
    error_msgid("reached_required", "Say whether the citizen was reached"),
    error_msgid("text_required", "Fill in the text"),
    error_msgid("text_too_long", "The text is too long"),
    error_msgid("not_your_rating", "Only the clerk the rating names may appeal it"),
    error_msgid("already_appealed", "This rating has been appealed already"),
    error_msgid("no_pending_appeal", "No appeal is waiting for a decision"),
    error_msgid("own_appeal", "Nobody decides their own appeal"),
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
    # where a result goes
    error_msgid("invalid_delivery", "Choose where the result goes: this hall, another hall or "
                "by post"),
    error_msgid("no_other_halls", "This hall has no other hall to deliver at"),
    error_msgid("unknown_hall", "No such hall in this deployment"),
    error_msgid("invalid_address", "Enter the postal address (6 to 200 characters)"),
    error_msgid("invalid_postcode", "The postcode has six digits"),
    error_msgid("invalid_tracking_number", "Check the tracking number"),
    error_msgid("not_by_post", "This case's result is not sent by post"),
    error_msgid("delivered_by_post", "This case's result is sent by post"),
    error_msgid("collected_at_other_hall", "This case's result is collected at another hall"),
    error_msgid("sent_to_other_hall",
                "The result was sent to another hall: it can no longer go elsewhere"),
    error_msgid("ambiguous_case", "Several halls have a case with this number: ask at a window"),
    error_msgid("not_for_this_hall", "This case's result is not collected at this hall"),
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
    # self-service forms
    error_msgid("invalid_form", "Some fields of the form need correcting"),
    error_msgid("unknown_draft", "No form is saved for this ticket, or it has expired"),
    error_msgid("ticket_not_open", "This ticket is finished: no form can be filled for it"),
    error_msgid("invalid_reference", "Enter a ticket number (B003) or a case number"),
    # the e-licence library and uploaded materials
    error_msgid("consent_required", "The applicant's consent is needed to use their e-licences"),
    error_msgid("licence_not_held", "The library holds no valid licence of this applicant"),
    error_msgid("licence_wrong_material", "This licence does not stand for that material"),
    error_msgid("unknown_licence", "No such licence"),
    error_msgid("already_revoked", "This licence is revoked already"),
    error_msgid("signing_key_mismatch", "The department's signing key is not the published one"),
    error_msgid("bad_signature", "The signature does not verify"),
    error_msgid("bad_bundle", "Not a licence bundle this hall reads"),
    error_msgid("untrusted_issuer", "This issuer is not trusted"),
    error_msgid("licence_exists", "A licence with this number is in the library already"),
    error_msgid("empty_file", "The file is empty"),
    error_msgid("file_too_large", "The file is too large"),
    error_msgid("file_type_refused", "Only PDF, JPEG and PNG files are accepted"),
    error_msgid("unknown_file", "No such file"),
    error_msgid("checksum_mismatch", "The stored file has changed since it was stored"),
    error_msgid("store_unavailable", "The store of this file is not available"),
    # the halls of a deployment (the halls admin)
    error_msgid("unknown_hall", "No such hall"),
    error_msgid("outside_region", "That hall is outside your region"),
    error_msgid("hall_exists", "A hall with this code exists already (disabled halls too)"),
    error_msgid("hall_disabled", "The hall above is disabled"),
    error_msgid("has_children", "Halls below this one are enabled: move or disable them first"),
    error_msgid("invalid_hierarchy",
                "Not possible in the hierarchy: a hall goes under a higher level, never below "
                "itself"),
    error_msgid("invalid_template", "Choose a hall with a floor as the template"),
    error_msgid("invalid_level", "Choose the level: province, city, district or township"),
    error_msgid("invalid_name", "A name is 1–120 characters"),
    # the hall floor (admin page)
    error_msgid("invalid_code", "A code is 1–32 of a–z, 0–9 and _"),
    error_msgid("invalid_label", "A name has 1 to 64 characters"),
    error_msgid("zone_exists", "A zone with this code exists already"),
    error_msgid("unknown_zone", "No such zone"),
    error_msgid("service_exists", "A service with this code exists already"),
    error_msgid("invalid_letter", "A ticket letter is one capital letter A–Z"),
    error_msgid("letter_taken", "Another service has this ticket letter"),
    error_msgid("letter_used_today",
                "Today's tickets of another service carry this letter; take it tomorrow"),
    error_msgid("invalid_minutes", "The mean service time is 0.5 to 240 minutes"),
    error_msgid("invalid_board", "No such board"),
    error_msgid("board_mismatch", "Catalogue items served here belong to another board"),
    error_msgid("invalid_number", "A window number is 1 to 9999"),
    error_msgid("window_exists", "A window with this number exists already"),
    error_msgid("kind_not_in_zone", "This kind of window cannot stand in that zone"),
    error_msgid("window_retired", "This window is closed for good; reinstate it first"),
    error_msgid("window_open", "A clerk is logged in at this window; they log out first"),
    error_msgid("window_in_service", "This window is in service"),
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
