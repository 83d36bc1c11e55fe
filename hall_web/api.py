"""The API's typed edge: every ``/api/v1`` view declares its request and response models.

::

    @bp.post("/api/v1/tickets")
    @api.validate(json=TakeTicket, resp=answers(HTTP_201=TicketStatus, errors=(404, 409)))
    def take_ticket(json: TakeTicket): ...

Spectree's ``@api.validate`` sits under the route decorator (and under ``@access``), so
it adds to a view without replacing Flask's blueprints. It validates the query string and
JSON body before the view runs and the JSON answer after it; the OpenAPI 3.1 document
(``hall_web.openapi``) is generated from the same models.

What reaches pydantic is bounded first: bodies by ``MAX_CONTENT_LENGTH`` (a JSON 413),
JSON nesting by ``HallJSONProvider`` (never a RecursionError), path parameters by the URL
converters (ASCII digits up to 9 long, strings without control characters: a NUL never
reaches PostgreSQL). Every refusal, wherever it happens, is the one error shape
``{"error", "message", "field"}`` with status 422 (``refusal``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel, ConfigDict, ValidationError
from spectree import Response as Answers
from spectree import SpecTree
from spectree.plugins.flask_plugin import FlaskPlugin
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter, IntegerConverter

from hall_ops.errors import HallError, InvalidInput
from hall_web.error_messages import translated
from hall_web.fields import CODED

MAX_BODY_BYTES = 256 * 1024
"""The largest intake (100 items, 100 materials of 200 characters each) stays well below."""
MAX_JSON_DEPTH = 16
"""The deepest body the API takes is a proposal: object → object → object."""
MAX_PATH_TEXT = 200


class ErrorBody(BaseModel):
    """Every error the API answers: a stable code, a message in the caller's language and,
    for a refused field, its name; some errors add details (``missing`` materials …)."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str
    field: str | None = None


class ContractBroken(RuntimeError):
    """A view answered something its own response model does not allow: a bug, logged."""


# ---------------------------------------------------------------- refusals


def _printable(text: str) -> str:
    """Echoed input (a field name, say) made safe for a UTF-8 JSON answer."""
    return "".join(
        c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}"
        for c in text
    )[:200]


def refusal(exc: ValidationError) -> InvalidInput:
    """The first pydantic error as the API's 422: ``missing_field``, ``invalid_field``,
    ``bad_json`` (the body is not an object) or the code a ``coded`` field names."""
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = [str(part) for part in first["loc"]]
    field = _printable(".".join(loc))
    kind = first["type"]
    if kind in CODED:
        code = kind
    elif not loc:
        code = "bad_json"
    elif kind == "missing":
        code = "missing_field"
    else:
        code = "invalid_field"
    message = _printable(f"'{field}': {first['msg']}" if field else first["msg"])
    details = {"field": field} if field else {}
    return InvalidInput(message, code=code, **details)


def parse(model: type[BaseModel], data: Any) -> Any:
    """Validate ``data`` by hand (a body read only after its signature checks out)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise refusal(exc) from None


def json_object() -> dict[str, Any] | None:
    """The request body as a JSON object, or None if empty; ``bad_json`` if it is anything
    else (Spectree would take ``[]``, ``0`` or ``false`` for an empty object)."""
    if not request.get_data(cache=True):
        return None
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", code="bad_json")
    return data


class HallFlaskPlugin(FlaskPlugin):
    """Spectree's Flask plugin, with the hall's JSON reading and strict answers."""

    def register_route(self, app: Any) -> None:
        """The document and its page are served by ``hall_web.openapi``, not Spectree."""

    def request_validation(self, request: Any, query: Any, json: Any, *rest: Any) -> None:
        """Refusals leave as the API's 422 (Spectree would answer pydantic's own list)."""
        if json is not None and request.method not in ("GET", "DELETE"):
            json_object()  # bad_json before pydantic sees an empty object instead
        try:
            super().request_validation(request, query, json, *rest)
        except ValidationError as exc:
            raise refusal(exc) from None

    def validate_response(
        self, resp: Any, resp_model: Any, skip_validation: bool, force_resp_serialize: bool
    ) -> Any:
        payload = resp[0] if isinstance(resp, tuple) else resp
        if isinstance(payload, Response) and payload.mimetype != "application/json":
            skip_validation = True  # a CSV report: documented, not a JSON model
        response, error = super().validate_response(
            resp, resp_model, skip_validation, force_resp_serialize
        )
        if error is not None:
            raise ContractBroken(f"{request.method} {request.path}: {error}")
        return response, None


api = SpecTree(
    backend=HallFlaskPlugin,
    validation_error_model=ErrorBody,
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda parent, child: child,
    mode="strict",
    title="hall-ops API",
    version="1",
    path="apidoc",
)


def answers(errors: Iterable[int] = (), **models: Any) -> Answers:
    """A view's answers: ``HTTP_200=Model`` … plus the error statuses it raises itself
    (422 and the answers every view may give are added by ``hall_web.openapi``)."""
    answer = Answers(**models)
    for status in errors:
        answer.add_model(status, ErrorBody)
    return answer


# ---------------------------------------------------------------- JSON and paths


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(
            node, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


class HallJSONProvider(DefaultJSONProvider):
    """Too deep a body is not JSON the hall reads: a ValueError (Flask's "not JSON"), never
    the RecursionError of a hundred thousand ``[``."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
        if _depth(value) > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deeply")
        return value


class NumberConverter(IntegerConverter):
    """``<int:…>``: ASCII digits, at most nine (a window, a row id): never 2^63, never "٣"."""

    regex = r"[0-9]{1,9}"


class TextConverter(BaseConverter):
    """``<…>``: 1–200 characters, no slash and no control character (NUL included)."""

    regex = rf"[^/\x00-\x1f\x7f]{{1,{MAX_PATH_TEXT}}}"


def _too_large(exc: RequestEntityTooLarge) -> Any:
    if not request.path.startswith("/api/"):
        return exc
    refused = HallError(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB",
                        code="body_too_large")
    return jsonify(translated(refused.to_dict())), 413


def init_api(app: Flask) -> None:
    """Before any blueprint: the converters apply to rules as they are registered."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.json_provider_class = HallJSONProvider
    app.json = HallJSONProvider(app)
    app.json.ensure_ascii = False
    app.url_map.converters.update(int=NumberConverter, default=TextConverter,
                                  string=TextConverter)


def register_api(app: Flask) -> None:
    """After the blueprints: Spectree walks the app's URL map for the document."""
    api.register(app)
