"""Staff accounts: the first admin, adding and disabling staff, credentials, roles, login.

Every change that alters what a person may do bumps ``session_version``, so
sessions opened before it stop working at their next request. Logins return
an :class:`AuthOutcome` instead of raising: the failure counter and the log
row must be committed even though the login is refused (the edge raises
after the commit with :meth:`AuthOutcome.raise_for_failure`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall_ops.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from hall_ops.queue.models import Clerk, Window
from hall_ops.staff import log
from hall_ops.staff.models import ROLES, RoleGrant, StaffMember, StaffWindow
from hall_ops.staff.policy import StaffPolicy

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
PIN = re.compile(r"^\d{4,8}$")
MAX_SECRET = 256


# ---------------------------------------------------------------- identities


@dataclass(frozen=True)
class Grant:
    role: str
    hall: str
    department: str = ""


@dataclass(frozen=True)
class StaffIdentity:
    """What a session needs to know about a person, read once per request."""

    login: str
    name: str
    session_version: int
    grants: frozenset[Grant]
    windows: frozenset[tuple[str, int]]
    """(hall, window number) pairs this person may sit at as a clerk."""

    def has_role(self, role: str, hall: str, department: str | None = None) -> bool:
        return any(
            g.role == role and g.hall == hall and (department is None or g.department == department)
            for g in self.grants
        )

    def departments(self, hall: str) -> frozenset[str]:
        return frozenset(
            g.department for g in self.grants if g.role == "approver" and g.hall == hall
        )

    def may_sit_at(self, hall: str, window: int) -> bool:
        return self.has_role("clerk", hall) and (hall, window) in self.windows


def _identity(staff: StaffMember) -> StaffIdentity:
    return StaffIdentity(
        login=staff.id,
        name=staff.name,
        session_version=staff.session_version,
        grants=frozenset(Grant(g.role, g.hall, g.department) for g in staff.grants),
        windows=frozenset((w.hall, w.window_number) for w in staff.windows),
    )


def identity(
    session: Session, login: str, session_version: int | None = None
) -> StaffIdentity | None:
    """The enabled person behind a session, or None (unknown, disabled, or an older session)."""
    staff = session.get(StaffMember, login)
    if staff is None or not staff.enabled:
        return None
    if session_version is not None and staff.session_version != session_version:
        return None
    return _identity(staff)


def list_staff(session: Session) -> list[dict[str, object]]:
    """Everyone, for the admin page: roles and windows, never a hash."""
    rows = session.scalars(select(StaffMember).order_by(StaffMember.id)).all()
    return [
        {
            "login": s.id,
            "name": s.name,
            "enabled": s.enabled,
            "has_password": s.password_hash is not None,
            "has_pin": s.pin_hash is not None,
            "locked_until": s.locked_until.isoformat() if s.locked_until else None,
            "pin_locked_until": s.pin_locked_until.isoformat() if s.pin_locked_until else None,
            "last_login_at": s.last_login_at.isoformat() if s.last_login_at else None,
            "roles": [
                {"role": g.role, "hall": g.hall, "department": g.department or None}
                for g in s.grants
            ],
            "windows": [{"hall": w.hall, "window": w.window_number} for w in s.windows],
        }
        for s in rows
    ]


# ---------------------------------------------------------------- validation


def _login(value: str) -> str:
    login = value.strip().lower() if isinstance(value, str) else ""
    if not LOGIN.match(login):
        raise InvalidInput(
            "a login is 2–32 lower-case letters, digits, '.', '_' or '-'", code="invalid_login"
        )
    return login


def _name(value: str) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(name) <= 64:
        raise InvalidInput("a name has 1–64 characters", code="invalid_name")
    return name


def _password(value: str, policy: StaffPolicy) -> str:
    if not isinstance(value, str) or not policy.min_password_length <= len(value) <= MAX_SECRET:
        raise InvalidInput(
            f"a password has at least {policy.min_password_length} characters",
            code="weak_password",
        )
    return value


def _pin(value: str) -> str:
    if not isinstance(value, str) or not PIN.match(value):
        raise InvalidInput("a PIN has 4–8 digits", code="invalid_pin")
    return value


def _staff(session: Session, login: str, *, lock: bool = True) -> StaffMember:
    query = select(StaffMember).where(StaffMember.id == _login(login))
    staff = session.scalars(query.with_for_update() if lock else query).first()
    if staff is None:
        raise NotFound(f"no staff member {login!r}", code="unknown_staff")
    return staff


def _admins_left(session: Session, hall: str, without: str) -> int:
    return (
        session.scalar(
            select(func.count(func.distinct(RoleGrant.staff_id)))
            .join(StaffMember, StaffMember.id == RoleGrant.staff_id)
            .where(
                RoleGrant.role == "admin",
                RoleGrant.hall == hall,
                StaffMember.enabled,
                StaffMember.id != without,
            )
        )
        or 0
    )


# ---------------------------------------------------------------- staff


def create_first_admin(
    session: Session, login: str, name: str, password: str, now: dt.datetime, policy: StaffPolicy
) -> StaffMember:
    """A new installation's first admin; refused once any admin exists (in any hall)."""
    if session.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.role == "admin")):
        raise Conflict("an admin already exists; ask them to add you", code="admin_exists")
    staff = add_staff(session, None, login, name, now, policy, password=password)
    _grant(session, staff, None, "admin", policy.hall, "", now)
    log.record(session, "first_admin", now, subject=staff.id)
    return staff


def add_staff(
    session: Session,
    actor: str | None,
    login: str,
    name: str,
    now: dt.datetime,
    policy: StaffPolicy,
    *,
    password: str | None = None,
    pin: str | None = None,
) -> StaffMember:
    login = _login(login)
    if session.get(StaffMember, login) is not None:
        raise Conflict(f"login {login!r} is taken", code="login_taken")
    staff = StaffMember(
        id=login,
        name=_name(name),
        created_at=now,
        enabled=True,
        session_version=1,
        failed_logins=0,
        pin_failures=0,
        password_hash=policy.hash(_password(password, policy)) if password is not None else None,
        pin_hash=policy.hash(_pin(pin)) if pin is not None else None,
    )
    session.add(staff)
    session.flush()
    log.record(session, "staff_added", now, actor=actor, subject=login, name=staff.name)
    return staff


def set_enabled(
    session: Session,
    actor: str | None,
    login: str,
    enabled: bool,
    now: dt.datetime,
    policy: StaffPolicy,
) -> StaffMember:
    """Disabling ends every session at once; the last admin of the hall cannot be disabled."""
    staff = _staff(session, login)
    if staff.enabled == enabled:
        return staff
    if (
        not enabled
        and _is_admin(staff, policy.hall)
        and not _admins_left(session, policy.hall, staff.id)
    ):
        raise Conflict("the last admin cannot be disabled", code="last_admin")
    staff.enabled = enabled
    if not enabled:
        staff.session_version += 1
    log.record(
        session,
        "staff_enabled" if enabled else "staff_disabled",
        now,
        actor=actor,
        subject=staff.id,
    )
    return staff


def reset_password(
    session: Session,
    actor: str | None,
    login: str,
    password: str,
    now: dt.datetime,
    policy: StaffPolicy,
) -> StaffMember:
    """A new password lifts the lockout and ends the person's sessions."""
    staff = _staff(session, login)
    staff.password_hash = policy.hash(_password(password, policy))
    staff.failed_logins, staff.locked_until = 0, None
    staff.session_version += 1
    log.record(session, "password_reset", now, actor=actor, subject=staff.id)
    return staff


def reset_pin(
    session: Session,
    actor: str | None,
    login: str,
    pin: str | None,
    now: dt.datetime,
    policy: StaffPolicy,
) -> StaffMember:
    """A new window PIN (None removes it), lifting the PIN lockout; ends the person's sessions."""
    staff = _staff(session, login)
    staff.pin_hash = policy.hash(_pin(pin)) if pin is not None else None
    staff.pin_failures, staff.pin_locked_until = 0, None
    staff.session_version += 1
    log.record(session, "pin_reset", now, actor=actor, subject=staff.id, removed=pin is None)
    return staff


def end_sessions(
    session: Session, login: str, now: dt.datetime, *, actor: str | None = None
) -> None:
    """Logout: every session of this person stops working, on every browser."""
    staff = _staff(session, login)
    staff.session_version += 1
    log.record(session, "logout", now, actor=actor or staff.id, subject=staff.id)


# ---------------------------------------------------------------- roles and windows


def _is_admin(staff: StaffMember, hall: str) -> bool:
    return any(g.role == "admin" and g.hall == hall for g in staff.grants)


def _grant(
    session: Session,
    staff: StaffMember,
    actor: str | None,
    role: str,
    hall: str,
    department: str,
    now: dt.datetime,
) -> RoleGrant:
    grant = RoleGrant(role=role, hall=hall, department=department, granted_at=now, granted_by=actor)
    staff.grants.append(grant)
    staff.session_version += 1
    if role == "clerk":
        # windows, tickets and cases name their clerk through the queue's ``clerks`` table
        clerk = session.get(Clerk, staff.id) or Clerk(id=staff.id)
        clerk.name = staff.name
        session.add(clerk)
    session.flush()
    return grant


def _role_scope(role: str, department: str | None) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {ROLES}", code="invalid_role")
    if role == "approver":
        if not department or not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", department):
            raise InvalidInput(
                "an approver is granted for one department", code="department_required"
            )
        return department
    if department:
        raise InvalidInput(f"a {role} is not granted per department", code="invalid_department")
    return ""


def grant_role(
    session: Session,
    actor: str | None,
    login: str,
    role: str,
    now: dt.datetime,
    policy: StaffPolicy,
    *,
    department: str | None = None,
    hall: str | None = None,
) -> StaffMember:
    """Idempotent: granting a role the person has changes nothing and logs nothing."""
    hall = hall or policy.hall
    department = _role_scope(role, department)
    staff = _staff(session, login)
    if any((g.role, g.hall, g.department) == (role, hall, department) for g in staff.grants):
        return staff
    _grant(session, staff, actor, role, hall, department, now)
    log.record(
        session,
        "role_granted",
        now,
        actor=actor,
        subject=staff.id,
        role=role,
        hall=hall,
        **({"department": department} if department else {}),
    )
    return staff


def revoke_role(
    session: Session,
    actor: str | None,
    login: str,
    role: str,
    now: dt.datetime,
    policy: StaffPolicy,
    *,
    department: str | None = None,
    hall: str | None = None,
) -> StaffMember:
    hall = hall or policy.hall
    department = _role_scope(role, department)
    staff = _staff(session, login)
    match = [g for g in staff.grants if (g.role, g.hall, g.department) == (role, hall, department)]
    if not match:
        return staff
    if role == "admin" and staff.enabled and not _admins_left(session, hall, staff.id):
        raise Conflict("the last admin keeps the admin role", code="last_admin")
    staff.grants.remove(match[0])
    staff.session_version += 1
    log.record(
        session,
        "role_revoked",
        now,
        actor=actor,
        subject=staff.id,
        role=role,
        hall=hall,
        **({"department": department} if department else {}),
    )
    return staff


def set_windows(
    session: Session,
    actor: str | None,
    login: str,
    windows: Iterable[int],
    now: dt.datetime,
    policy: StaffPolicy,
) -> StaffMember:
    """The windows of ``policy.hall`` this clerk may sit at (replaces the previous list)."""
    numbers = sorted(set(windows))
    known = set(session.scalars(select(Window.number).where(Window.number.in_(numbers))))
    if unknown := [n for n in numbers if n not in known]:
        raise InvalidInput(f"unknown window(s) {unknown}", code="unknown_window")
    staff = _staff(session, login)
    here = {w.window_number: w for w in staff.windows if w.hall == policy.hall}
    for number, row in here.items():
        if number not in numbers:
            staff.windows.remove(row)
    staff.windows.extend(
        StaffWindow(hall=policy.hall, window_number=n) for n in numbers if n not in here
    )
    staff.session_version += 1
    log.record(
        session,
        "windows_set",
        now,
        actor=actor,
        subject=staff.id,
        hall=policy.hall,
        windows=numbers,
    )
    return staff


# ---------------------------------------------------------------- login


@dataclass(frozen=True)
class AuthOutcome:
    identity: StaffIdentity | None
    failure: str | None = None
    """bad_credentials, locked, disabled, not_clerk or window_not_allowed."""
    locked_until: dt.datetime | None = None

    def raise_for_failure(self) -> StaffIdentity:
        if self.identity is not None:
            return self.identity
        if self.failure == "locked":
            raise Unauthorized(
                "too many wrong attempts; try again later or ask an admin",
                code="locked",
                locked_until=self.locked_until.isoformat() if self.locked_until else None,
            )
        if self.failure == "disabled":
            raise Unauthorized("this account is disabled", code="account_disabled")
        if self.failure == "not_clerk":
            raise Forbidden("this account may not work at a window", code="not_clerk")
        if self.failure == "window_not_allowed":
            raise Forbidden("this clerk may not sit at this window", code="window_not_allowed")
        raise Unauthorized("unknown login or wrong password", code="bad_credentials")


def _check_secret(
    session: Session,
    staff: StaffMember | None,
    secret: str,
    now: dt.datetime,
    policy: StaffPolicy,
    *,
    pin: bool,
) -> AuthOutcome | None:
    """None if the secret is right; else the failure, counted and logged."""
    kind = "pin" if pin else "password"
    stored = None if staff is None else (staff.pin_hash if pin else staff.password_hash)
    locked_until = (
        None if staff is None else (staff.pin_locked_until if pin else staff.locked_until)
    )
    if locked_until is not None and locked_until > now:
        policy.verify(None, secret)  # the same work as any other attempt
        log.record(
            session,
            "login_failed",
            now,
            subject=staff.id if staff else None,
            method=kind,
            reason="locked",
        )
        return AuthOutcome(None, "locked", locked_until)
    if policy.verify(stored, secret[:MAX_SECRET]):
        return None
    if staff is None:
        log.record(session, "login_failed", now, method=kind, reason="unknown_login")
        return AuthOutcome(None, "bad_credentials")
    failures = (staff.pin_failures if pin else staff.failed_logins) + 1
    until = now + policy.lockout if failures >= policy.max_failures else None
    if pin:
        staff.pin_failures, staff.pin_locked_until = (0, until) if until else (failures, None)
    else:
        staff.failed_logins, staff.locked_until = (0, until) if until else (failures, None)
    log.record(
        session,
        "login_failed",
        now,
        subject=staff.id,
        method=kind,
        reason="wrong_secret",
        failures=failures,
    )
    if until:
        log.record(
            session, "locked_out", now, subject=staff.id, method=kind, until=until.isoformat()
        )
        return AuthOutcome(None, "locked", until)
    return AuthOutcome(None, "bad_credentials")


def _find(session: Session, login: str) -> StaffMember | None:
    login = login.strip().lower() if isinstance(login, str) else ""
    if not LOGIN.match(login):
        return None
    return session.scalars(
        select(StaffMember).where(StaffMember.id == login).with_for_update()
    ).first()


def authenticate_password(
    session: Session, login: str, password: str, now: dt.datetime, policy: StaffPolicy
) -> AuthOutcome:
    """Password login, with per-account lockout after ``policy.max_failures`` wrong passwords."""
    staff = _find(session, login)
    failure = _check_secret(session, staff, password, now, policy, pin=False)
    if failure is not None:
        return failure
    assert staff is not None and staff.password_hash is not None
    if not staff.enabled:
        log.record(
            session, "login_failed", now, subject=staff.id, method="password", reason="disabled"
        )
        return AuthOutcome(None, "disabled")
    if policy.needs_rehash(staff.password_hash):
        staff.password_hash = policy.hash(password)
    staff.failed_logins, staff.locked_until, staff.last_login_at = 0, None, now
    log.record(session, "login", now, subject=staff.id, method="password")
    return AuthOutcome(_identity(staff))


def authenticate_pin(
    session: Session, login: str, pin: str, now: dt.datetime, policy: StaffPolicy, *, window: int
) -> AuthOutcome:
    """Window login: a clerk's PIN, valid only at the windows they may sit at."""
    staff = _find(session, login)
    failure = _check_secret(session, staff, pin, now, policy, pin=True)
    if failure is not None:
        return failure
    assert staff is not None and staff.pin_hash is not None
    reason = (
        "disabled"
        if not staff.enabled
        else "not_clerk"
        if not any(g.role == "clerk" and g.hall == policy.hall for g in staff.grants)
        else "window_not_allowed"
        if not any(w.hall == policy.hall and w.window_number == window for w in staff.windows)
        else None
    )
    if reason:
        log.record(
            session,
            "login_failed",
            now,
            subject=staff.id,
            method="pin",
            reason=reason,
            window=window,
        )
        return AuthOutcome(None, reason)
    if policy.needs_rehash(staff.pin_hash):
        staff.pin_hash = policy.hash(pin)
    staff.pin_failures, staff.pin_locked_until, staff.last_login_at = 0, None, now
    log.record(session, "login", now, subject=staff.id, method="pin", window=window)
    return AuthOutcome(_identity(staff))
