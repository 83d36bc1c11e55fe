"""Staff sessions: who this browser is, password login and logout."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hall_web.schemas.base import Answer, Request


class PasswordLogin(Request):
    login: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    """Not cleaned: every character of a password counts."""


class StaffSession(Answer):
    login: str
    name: str
    method: Literal["password", "pin"]
    window: int | None
    """The window a PIN login sits at."""
    roles: list[Literal["clerk", "approver", "manager", "admin"]]
    departments: list[str]


class DeviceSession(Answer):
    id: int
    kind: Literal["screen", "kiosk", "pad"]
    name: str
    scope: str


class WhoAmI(Answer):
    staff: StaffSession | None
    device: DeviceSession | None
    csrf_token: str
    """Send it back as ``X-CSRFToken`` on every state-changing request."""


class LoggedIn(Answer):
    staff: StaffSession
    csrf_token: str


class LoggedOut(Answer):
    staff: None
