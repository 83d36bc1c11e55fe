"""Demo staff and devices, so ``./hall demo`` can be tried as every role at once.

Idempotent: run at every demo start. Existing accounts are left as they are;
device tokens are derived from a secret of the installation, so the screens
opened during an earlier run keep working after a restart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.cases.catalogue import ServiceItem
from hall_ops.config import HallConfig
from hall_ops.floor.plan import floor_plan
from hall_ops.staff import accounts, devices
from hall_ops.staff.models import Device, StaffMember
from hall_ops.staff.policy import StaffPolicy

DEMO_PASSWORD = "hall-demo"
DEMO_PIN = "1234"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    login: str
    name: str
    secret: str
    """The password, the PIN, or for a device the path to open on it (token included)."""


class _Hashes:
    """One argon2 hash per demo secret, shared by every demo account that has it: a hash
    costs a noticeable fraction of a second, and the demo has dozens of accounts."""

    def __init__(self, policy: StaffPolicy) -> None:
        self.policy = policy
        self.made: dict[str, str] = {}

    def __call__(self, secret: str) -> str:
        if secret not in self.made:
            self.made[secret] = self.policy.hash(secret)
        return self.made[secret]


def _account(
    session: Session,
    login: str,
    name: str,
    now: dt.datetime,
    hashes: _Hashes,
    *,
    password: str | None = None,
    pin: str | None = None,
) -> bool:
    """False if the account already exists (and is left alone)."""
    if session.get(StaffMember, login) is not None:
        return False
    staff = accounts.add_staff(session, "demo", login, name, now, hashes.policy)
    staff.password_hash = hashes(password) if password is not None else None
    staff.pin_hash = hashes(pin) if pin is not None else None
    return True


def create_demo_staff(
    session: Session,
    hall: HallConfig,
    now: dt.datetime,
    policy: StaffPolicy,
    *,
    device_secret: str | bytes,
    password: str = DEMO_PASSWORD,
    pin: str = DEMO_PIN,
) -> list[DemoLogin]:
    """Clerks of config.toml (PIN, every window), one approver per department of the
    catalogue, a manager, an admin, and a screen for the hall and each zone plus a kiosk."""
    logins: list[DemoLogin] = []
    hashes = _Hashes(policy)
    plan = floor_plan(session)
    windows = [w.number for w in plan.windows]
    for clerk in hall.clerks:
        if _account(session, clerk.id, clerk.name, now, hashes, pin=pin):
            accounts.grant_role(session, "demo", clerk.id, "clerk", now, policy)
            accounts.set_windows(session, "demo", clerk.id, windows, now, policy)
        logins.append(DemoLogin("clerk", clerk.id, clerk.name, pin))

    departments = session.execute(
        select(ServiceItem.department_code, ServiceItem.department_name_zh)
        .distinct()
        .order_by(ServiceItem.department_code)
    ).all()
    for code, name_zh in departments:
        login = f"appr-{code.lower()}"[:32]
        if _account(session, login, f"{name_zh}审批员", now, hashes, password=password):
            accounts.grant_role(session, "demo", login, "approver", now, policy, department=code)
        logins.append(DemoLogin(f"approver {code}", login, f"{name_zh}审批员", password))

    for role, login, name in (("manager", "manager", "大厅主任"), ("admin", "admin", "系统管理员")):
        if _account(session, login, name, now, hashes, password=password):
            accounts.grant_role(session, "demo", login, role, now, policy)
        logins.append(DemoLogin(role, login, name, password))

    key = device_secret.encode() if isinstance(device_secret, str) else device_secret
    screens = (
        [("screen", "大厅总屏", "hall")]
        + [("screen", f"{z.name_zh}屏", f"zone:{z.code}") for z in plan.zones]
        + [("kiosk", "取号机", "hall")]
    )
    for kind, name, scope in screens:
        token = hmac.new(key, f"demo-device:{kind}:{scope}".encode(), hashlib.sha256).hexdigest()
        known = session.scalars(
            select(Device).where(Device.token_hash == devices.token_hash(token))
        ).first()
        if known is None:
            devices.issue_device(session, "demo", kind, name, scope, now, policy, token=token)
        if known is None or known.revoked_at is None:
            logins.append(
                DemoLogin(f"device {kind}", scope, name, devices.device_link(kind, scope, token))
            )
    return logins


def format_demo_logins(logins: list[DemoLogin], base_url: str) -> str:
    """The lines ``./hall demo`` prints: who can log in with what, and each device's link."""
    lines = ["  demo staff (window PIN for clerks, password for the others):"]
    clerks = [entry for entry in logins if entry.role == "clerk"]
    if clerks:
        lines.append(f"    clerk     {clerks[0].login}…{clerks[-1].login}  PIN {clerks[0].secret}")
    for entry in logins:
        if entry.role == "clerk":
            continue
        if entry.role.startswith("device"):
            lines.append(f"    {entry.role:<9} {entry.name}: {base_url}{entry.secret}")
        else:
            lines.append(f"    {entry.role:<9} {entry.login} / {entry.secret}  ({entry.name})")
    return "\n".join(lines)
