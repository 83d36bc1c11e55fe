"""The API's OpenAPI 3.1 document, its browsable page and the Socket.IO event schemas.

Spectree generates the operations from the views' models (``hall_web.api``); this module
adds what the models cannot say: the answers any view may give (404 for an unknown path
parameter, 413 for a body too big, 401/403 from the access rules, 429 from the login and
look-up limits), the bounds of path
parameters that the URL converters enforce, CSV variants of reports, operation ids from
the Flask endpoints, and links between operations for stateful clients and fuzzers.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template

from hall_web.access import access
from hall_web.api import MAX_PATH_TEXT, ErrorBody, answers, api
from hall_web.schemas.socketio import event_schemas

bp = Blueprint("contract", __name__)

STATE_CHANGING = ("post", "put", "patch", "delete")
ERROR_DESCRIPTIONS = {
    401: "Not logged in (or not at this window)",
    403: "Not allowed for this login or device, or the CSRF token is missing",
    404: "No such thing, or a path parameter out of range",
    409: "The hall's current state forbids it",
    413: "The body is larger than the API takes",
    422: "A field is missing or not in the right format",
    429: "Too many failed logins or look-ups from this address (or for this account)",
}
CSV_REPORTS = ("managers.ticket_report", "managers.case_report", "evaluation.figures_api")
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("citizens.take_ticket", "201"): {
        "TicketStatus": {"operationId": "citizens.ticket_status",
                         "parameters": {"token": "$response.body#/token"}},
        "CancelTicket": {"operationId": "citizens.cancel_ticket",
                         "parameters": {"token": "$response.body#/token"}},
        "RateTicket": {"operationId": "evaluation.rate_visit",
                       "parameters": {"token": "$response.body#/token"}},
        "FollowUp": {"operationId": "evaluation.follow_up_visit",
                     "parameters": {"token": "$response.body#/token"}},
    },
    ("citizens.create_appointment", "201"): {
        "CheckIn": {"operationId": "citizens.check_in",
                    "parameters": {"code": "$response.body#/code"}},
    },
    ("clerks.intake_api", "201"): {
        "CaseView": {"operationId": "clerks.case_view",
                     "parameters": {"number": "$response.body#/case_number"}},
        "Supplement": {"operationId": "clerks.supplement",
                       "parameters": {"number": "$response.body#/case_number"}},
    },
}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def _path_parameter(parameter: dict[str, Any]) -> None:
    """The bounds ``hall_web.api``'s URL converters enforce (anything else is a 404)."""
    schema = parameter["schema"]
    if schema.get("type") == "integer":
        schema.update(minimum=0, maximum=999_999_999)
        schema.pop("format", None)
    elif "enum" not in schema:
        schema.update(minLength=1, maxLength=MAX_PATH_TEXT,
                      pattern="^[^/\\u0000-\\u001f\\u007f]+$")


def document(app: Flask) -> dict[str, Any]:
    """The document for ``app`` (made once per app: the routes do not change)."""
    cached = app.extensions.get("openapi")
    if cached is not None:
        return cached
    spec = copy.deepcopy(api.spec)
    endpoints = {
        (api.backend.parse_path(rule, None)[0], method.lower()): rule.endpoint
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            _complete(app, endpoints[(path, method)], method, operation)
    spec["info"]["description"] = (
        "The hall's JSON API. Every error is `{error, message, field?}` (ErrorBody); "
        "the message is in the language the request asks for (`?lang=`, `Accept-Language`, "
        "the `lang` cookie; Chinese by default). Live updates travel over Socket.IO: "
        "see /api/v1/socketio-schemas.json and docs/api.md."
    )
    spec["components"]["schemas"]["ErrorBody"] = ErrorBody.model_json_schema()
    spec.pop("security", None)
    app.extensions["openapi"] = spec
    return spec


def _complete(app: Flask, endpoint: str, method: str, operation: dict[str, Any]) -> None:
    operation["operationId"] = endpoint
    operation["tags"] = [endpoint.split(".")[0]]
    if operation["summary"].endswith(f"<{method.upper()}>"):  # no docstring: the view's name
        operation["summary"] = endpoint.split(".")[1].replace("_", " ").capitalize()
    responses = operation["responses"]
    extra = {422}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            _path_parameter(parameter)
            extra.add(404)
    if "requestBody" in operation:
        extra.add(413)
        operation["requestBody"]["required"] = False
    view = app.view_functions[endpoint]
    rule = getattr(view, "access_rule", None)
    if rule is not None and rule.name != "public":
        extra |= {401, 403}
    if getattr(view, "rate_limited", False):
        extra.add(429)
    if method in STATE_CHANGING:
        extra.add(403)
    for status in sorted(extra):
        responses.setdefault(str(status), _error(status))
    for status, response in responses.items():
        if status.startswith("4"):
            response["content"] = _error(int(status))["content"]
            response["description"] = ERROR_DESCRIPTIONS[int(status)]
        links = LINKS.get((endpoint, status))
        if links:
            response["links"] = links
    if endpoint in CSV_REPORTS:
        responses["200"]["content"]["text/csv"] = {
            "schema": {"type": "string"},
        }
        responses["200"]["description"] = "The report; `format=csv` gives a spreadsheet"


@bp.get("/api/v1/openapi.json")
@access("public")
@api.validate(resp=answers(HTTP_200=None))
def openapi_document() -> Any:
    """This document."""
    return jsonify(document(current_app))


@bp.get("/api/v1/socketio-schemas.json")
@access("public")
@api.validate(resp=answers(HTTP_200=None))
def socketio_schemas() -> Any:
    """JSON Schemas of the Socket.IO events: payloads, direction and rooms."""
    return jsonify(event_schemas())


@bp.get("/api/docs")
@access("public")
def api_page() -> str:
    """The document, browsable (Swagger UI from static/vendor: the hall is offline)."""
    return render_template("api_docs.html")
