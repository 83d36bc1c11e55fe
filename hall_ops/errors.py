"""Domain errors. Each carries a stable ``code`` and the HTTP status the edge answers with."""

from __future__ import annotations

from typing import Any


class HallError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details}


class InvalidInput(HallError):
    status = 422
    code = "invalid"


class NotFound(HallError):
    status = 404
    code = "not_found"


class Conflict(HallError):
    """The request is well-formed but the hall's current state forbids it."""

    status = 409
    code = "conflict"


class Unauthorized(HallError):
    status = 401
    code = "unauthorized"


class Forbidden(HallError):
    """Logged in, but this person or device may not do this."""

    status = 403
    code = "forbidden"
