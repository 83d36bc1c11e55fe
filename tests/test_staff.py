"""Staff accounts, login with lockout, sessions, devices and the security log (domain, both
databases)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from hall_ops.cases.catalogue import load_catalogue
from hall_ops.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from hall_ops.staff import accounts, devices, log
from hall_ops.staff.demo import DEMO_PASSWORD, create_demo_staff, format_demo_logins
from hall_ops.staff.models import Device, SecurityEvent, StaffMember
from hall_ops.staff.policy import StaffPolicy
from tests.conftest import OPEN_NOW, ROOT

T0 = OPEN_NOW
PASSWORD = "correct horse"


@pytest.fixture
def policy() -> StaffPolicy:
    """Real argon2id, at the cheapest cost so the tests stay quick."""
    return StaffPolicy(hasher=PasswordHasher.from_parameters(profiles.CHEAPEST))


def _events(db, kind=None):
    with db.read() as s:
        query = select(SecurityEvent).order_by(SecurityEvent.id)
        if kind:
            query = query.where(SecurityEvent.kind == kind)
        return s.scalars(query).all()


def _staff(db, policy, login="wang", *, password=PASSWORD, pin=None, roles=(), windows=()):
    with db.write() as s:
        accounts.add_staff(s, "admin", login, "王芳", T0, policy, password=password, pin=pin)
        for role, department in roles:
            accounts.grant_role(s, "admin", login, role, T0, policy, department=department)
        if windows:
            accounts.set_windows(s, "admin", login, windows, T0, policy)


def _login(db, policy, login, password, at=T0):
    with db.write(origin="10.0.0.7") as s:
        return accounts.authenticate_password(s, login, password, at, policy)


def _pin(db, policy, login, pin, window, at=T0):
    with db.write() as s:
        return accounts.authenticate_pin(s, login, pin, at, policy, window=window)


# ---------------------------------------------------------------- first admin


def test_first_admin_only_once(any_db, policy):
    with any_db.write() as s:
        admin = accounts.create_first_admin(s, "Root", "管理员", PASSWORD, T0, policy)
    assert admin.id == "root"  # logins are lower case
    with pytest.raises(Conflict) as refused, any_db.write() as s:
        accounts.create_first_admin(s, "other", "另一个", PASSWORD, T0, policy)
    assert refused.value.code == "admin_exists"
    with any_db.read() as s:
        assert s.get(StaffMember, "other") is None
        found = accounts.identity(s, "root")
    assert found is not None and found.has_role("admin", policy.hall)
    assert [e.kind for e in _events(any_db)] == ["staff_added", "first_admin"]


def test_passwords_are_stored_as_argon2id_only(db):
    real = StaffPolicy()  # the production hasher
    with db.write() as s:
        accounts.create_first_admin(s, "root", "管理员", PASSWORD, T0, real)
    with db.read() as s:
        stored = s.get(StaffMember, "root").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert _login(db, real, "root", PASSWORD).identity is not None


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"login": "a"}, "invalid_login"),
        ({"login": "wang fang"}, "invalid_login"),
        ({"name": " "}, "invalid_name"),
        ({"password": "short"}, "weak_password"),
        ({"pin": "12a4"}, "invalid_pin"),
        ({"pin": "123"}, "invalid_pin"),
    ],
)
def test_add_staff_validates(db, policy, kwargs, code):
    values = {"login": "wang", "name": "王芳", "password": PASSWORD, **kwargs}
    with pytest.raises(InvalidInput) as refused, db.write() as s:
        accounts.add_staff(
            s, "admin", values.pop("login"), values.pop("name"), T0, policy, **values
        )
    assert refused.value.code == code


def test_login_taken(db, policy):
    _staff(db, policy)
    with pytest.raises(Conflict), db.write() as s:
        accounts.add_staff(s, "admin", "WANG", "王芳", T0, policy, password=PASSWORD)


# ---------------------------------------------------------------- password login and lockout


def test_password_login(any_db, policy):
    _staff(any_db, policy, roles=[("manager", None)])
    ok = _login(any_db, policy, " Wang ", PASSWORD)
    assert ok.failure is None and ok.identity.login == "wang"
    assert ok.identity.has_role("manager", policy.hall)
    for wrong in ("wrong password", ""):
        outcome = _login(any_db, policy, "wang", wrong)
        assert outcome.identity is None and outcome.failure == "bad_credentials"
    unknown = _login(any_db, policy, "nobody", PASSWORD)
    assert unknown.failure == "bad_credentials"
    with pytest.raises(Unauthorized) as refused:
        unknown.raise_for_failure()
    assert refused.value.code == "bad_credentials"
    kinds = [
        (e.kind, e.detail.get("reason"), e.origin)
        for e in _events(any_db)
        if e.kind.startswith("login")
    ]
    assert kinds == [
        ("login", None, "10.0.0.7"),
        ("login_failed", "wrong_secret", "10.0.0.7"),
        ("login_failed", "wrong_secret", "10.0.0.7"),
        ("login_failed", "unknown_login", "10.0.0.7"),
    ]


def test_lockout_after_five_wrong_passwords(any_db, policy):
    _staff(any_db, policy)
    outcomes = [
        _login(any_db, policy, "wang", f"wrong {i}", T0 + dt.timedelta(seconds=i)) for i in range(5)
    ]
    assert [o.failure for o in outcomes] == ["bad_credentials"] * 4 + ["locked"]
    until = outcomes[-1].locked_until
    assert until == T0 + dt.timedelta(seconds=4) + policy.lockout
    # locked: even the right password is refused, and says so
    right_too_soon = _login(any_db, policy, "wang", PASSWORD, until - dt.timedelta(seconds=1))
    assert right_too_soon.failure == "locked"
    with pytest.raises(Unauthorized) as refused:
        right_too_soon.raise_for_failure()
    assert refused.value.code == "locked"
    assert len(_events(any_db, "locked_out")) == 1
    # the lock lifts by itself, and a success clears the count
    assert _login(any_db, policy, "wang", PASSWORD, until).identity is not None
    assert _login(any_db, policy, "wang", "wrong", until).failure == "bad_credentials"
    with any_db.read() as s:
        staff = s.get(StaffMember, "wang")
        assert (staff.failed_logins, staff.locked_until) == (1, None)


def test_concurrent_wrong_passwords_are_all_counted(any_db, policy):
    """Eight guesses at once: the row lock serialises them, so exactly one lockout
    and no guess slips through uncounted."""
    _staff(any_db, policy)
    barrier = threading.Barrier(8)
    results: list[str | None] = []

    def guess(i: int) -> None:
        barrier.wait()
        results.append(_login(any_db, policy, "wang", f"guess {i}").failure)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["bad_credentials"] * 4 + ["locked"] * 4
    assert len(_events(any_db, "locked_out")) == 1
    wrong = [e for e in _events(any_db, "login_failed") if e.detail["reason"] == "wrong_secret"]
    assert sorted(e.detail["failures"] for e in wrong) == [1, 2, 3, 4, 5]


def test_reset_password_lifts_the_lock(db, policy):
    _staff(db, policy)
    for _ in range(5):
        _login(db, policy, "wang", "wrong")
    with db.write() as s:
        accounts.reset_password(s, "admin", "wang", "a new password", T0, policy)
    assert _login(db, policy, "wang", PASSWORD).failure == "bad_credentials"
    assert _login(db, policy, "wang", "a new password").identity is not None


def test_disabled_staff_cannot_log_in_and_lose_their_sessions(any_db, policy):
    _staff(any_db, policy)
    ok = _login(any_db, policy, "wang", PASSWORD).identity
    with any_db.write() as s:
        accounts.set_enabled(s, "admin", "wang", False, T0, policy)
    with any_db.read() as s:
        assert accounts.identity(s, "wang", ok.session_version) is None
        assert accounts.identity(s, "wang") is None
    assert _login(any_db, policy, "wang", "wrong").failure == "bad_credentials"
    assert _login(any_db, policy, "wang", PASSWORD).failure == "disabled"
    with any_db.write() as s:
        accounts.set_enabled(s, "admin", "wang", True, T0, policy)
    again = _login(any_db, policy, "wang", PASSWORD).identity
    assert again is not None and again.session_version > ok.session_version
    kinds = [e.kind for e in _events(any_db)]
    assert kinds.count("staff_disabled") == 1 and kinds.count("staff_enabled") == 1


def test_the_last_admin_stays(db, policy):
    with db.write() as s:
        accounts.create_first_admin(s, "root", "管理员", PASSWORD, T0, policy)
    for change in (
        lambda s: accounts.set_enabled(s, "root", "root", False, T0, policy),
        lambda s: accounts.revoke_role(s, "root", "root", "admin", T0, policy),
    ):
        with pytest.raises(Conflict) as refused, db.write() as s:
            change(s)
        assert refused.value.code == "last_admin"
    _staff(db, policy, "second", roles=[("admin", None)])
    with db.write() as s:
        accounts.revoke_role(s, "second", "root", "admin", T0, policy)
    with db.read() as s:
        assert not accounts.identity(s, "root").has_role("admin", policy.hall)


# ---------------------------------------------------------------- sessions end


def test_session_version_ends_old_sessions(any_db, policy):
    _staff(any_db, policy, roles=[("approver", "scj")])
    first = _login(any_db, policy, "wang", PASSWORD).identity

    def still_valid(identity) -> bool:
        with any_db.read() as s:
            return accounts.identity(s, "wang", identity.session_version) is not None

    assert still_valid(first)
    with any_db.write() as s:
        accounts.end_sessions(s, "wang", T0)  # logout
    assert not still_valid(first)
    second = _login(any_db, policy, "wang", PASSWORD).identity
    assert still_valid(second)
    with any_db.write() as s:  # a role change ends sessions too
        accounts.grant_role(s, "admin", "wang", "approver", T0, policy, department="gaj")
    assert not still_valid(second)
    third = _login(any_db, policy, "wang", PASSWORD).identity
    assert third.departments(policy.hall) == {"scj", "gaj"}
    with any_db.write() as s:  # so does a password reset
        accounts.reset_password(s, "admin", "wang", "another password", T0, policy)
    assert not still_valid(third)


def test_roles(db, policy):
    _staff(db, policy)
    with pytest.raises(InvalidInput) as no_department, db.write() as s:
        accounts.grant_role(s, "admin", "wang", "approver", T0, policy)
    assert no_department.value.code == "department_required"
    with pytest.raises(InvalidInput), db.write() as s:
        accounts.grant_role(s, "admin", "wang", "manager", T0, policy, department="scj")
    with pytest.raises(InvalidInput), db.write() as s:
        accounts.grant_role(s, "admin", "wang", "superuser", T0, policy)
    with db.write() as s:
        accounts.grant_role(s, "admin", "wang", "approver", T0, policy, department="scj")
        version = s.get(StaffMember, "wang").session_version
        accounts.grant_role(s, "admin", "wang", "approver", T0, policy, department="scj")
        assert s.get(StaffMember, "wang").session_version == version  # idempotent
        accounts.grant_role(s, "admin", "wang", "manager", T0, policy)
        accounts.revoke_role(s, "admin", "wang", "approver", T0, policy, department="scj")
    with db.read() as s:
        found = accounts.identity(s, "wang")
        listed = accounts.list_staff(s)
    assert found.has_role("manager", policy.hall) and not found.has_role("approver", policy.hall)
    assert not found.has_role("manager", "another-hall")
    assert listed[0]["roles"] == [{"role": "manager", "hall": "main", "department": None}]
    assert "password_hash" not in listed[0]
    granted = _events(db, "role_granted")
    assert [(e.actor, e.detail.get("role")) for e in granted] == [
        ("admin", "approver"),
        ("admin", "manager"),
    ]


# ---------------------------------------------------------------- window PIN


def test_pin_login_only_at_allowed_windows(any_db, policy):
    _staff(
        any_db, policy, "c01", password=None, pin="2468", roles=[("clerk", None)], windows=[9, 10]
    )
    assert _pin(any_db, policy, "c01", "2468", 9).identity.may_sit_at(policy.hall, 9)
    assert _pin(any_db, policy, "c01", "2468", 3).failure == "window_not_allowed"
    with pytest.raises(Forbidden):
        _pin(any_db, policy, "c01", "2468", 3).raise_for_failure()
    assert _pin(any_db, policy, "c01", "1111", 9).failure == "bad_credentials"
    # no password: the password login refuses whatever is tried
    assert _login(any_db, policy, "c01", "2468").failure == "bad_credentials"
    _staff(any_db, policy, "m01", pin="1357", roles=[("manager", None)])
    assert _pin(any_db, policy, "m01", "1357", 9).failure == "not_clerk"
    with pytest.raises(InvalidInput), any_db.write() as s:
        accounts.set_windows(s, "admin", "c01", [9, 999], T0, policy)


def test_pin_lockout_is_separate_from_the_password(db, policy):
    _staff(db, policy, "c01", pin="2468", roles=[("clerk", None)], windows=[9])
    outcomes = [_pin(db, policy, "c01", f"{1000 + i}", 9) for i in range(5)]
    assert outcomes[-1].failure == "locked"
    assert _pin(db, policy, "c01", "2468", 9).failure == "locked"
    assert _login(db, policy, "c01", PASSWORD).identity is not None  # the password still works
    with db.write() as s:
        accounts.reset_pin(s, "admin", "c01", "8642", T0, policy)
    assert _pin(db, policy, "c01", "8642", 9).identity is not None
    with db.write() as s:
        accounts.reset_pin(s, "admin", "c01", None, T0, policy)
    assert _pin(db, policy, "c01", "8642", 9).failure == "bad_credentials"


# ---------------------------------------------------------------- devices


def test_device_tokens(any_db, policy):
    with any_db.write() as s:
        device, token = devices.issue_device(
            s, "root", "screen", "前台屏", "zone:front_intake", T0, policy
        )
        device_id = device.id
    with any_db.read() as s:
        found = devices.verify_device(s, token)
        stored = s.execute(text("SELECT token_hash FROM devices")).scalar_one()
    assert found.id == device_id and found.kind == "screen" and found.hall == policy.hall
    assert found.covers("zone:front_intake") and not found.covers("zone:business")
    assert token not in stored and len(stored) == 64  # only the hash is kept
    with any_db.read() as s:
        assert devices.verify_device(s, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert devices.verify_device(s, "") is None
        assert devices.verify_device(s, "../../etc/passwd") is None
    with any_db.write(origin="10.0.0.9 screen") as s:
        devices.touch_device(s, device_id, T0 + dt.timedelta(minutes=5))
    with any_db.read() as s:
        assert devices.verify_device(s, token).last_seen_at == T0 + dt.timedelta(minutes=5)
        assert devices.list_devices(s, policy.hall)[0]["last_seen_from"] == "10.0.0.9 screen"
    with any_db.write() as s:
        devices.revoke_device(s, "root", device_id, T0)
    with any_db.read() as s:
        assert devices.verify_device(s, token) is None
    assert [e.kind for e in _events(any_db)] == ["device_issued", "device_revoked"]


def test_device_input_is_checked(db, policy):
    for kind, name, scope in (
        ("toaster", "x", "hall"),
        ("screen", "", "hall"),
        ("screen", "x", "manager"),
        ("screen", "x", "zone:Front"),
    ):
        with pytest.raises(InvalidInput), db.write() as s:
            devices.issue_device(s, "root", kind, name, scope, T0, policy)


# ---------------------------------------------------------------- the log


def test_security_log_is_append_only(any_db, policy):
    with any_db.write() as s:
        log.log_personal_data_read(s, "appr-scj", "SQ20261125-0001", T0, fields=("id_number",))
    with any_db.read() as s:
        rows = log.recent_events(s, subject="case:SQ20261125-0001")
    assert rows[0]["actor"] == "appr-scj" and rows[0]["detail"] == {"fields": ["id_number"]}
    for statement in (
        "UPDATE security_events SET actor = 'someone else'",
        "DELETE FROM security_events",
    ):
        with pytest.raises(DatabaseError), any_db.write() as s:
            s.execute(text(statement))
    assert _events(any_db)[0].actor == "appr-scj"


# ---------------------------------------------------------------- demo


def test_demo_staff(db, hall_config, policy):
    with db.write() as s:
        load_catalogue(s, ROOT / hall_config.raw["catalogue"]["path"])
    with db.write() as s:
        first = create_demo_staff(s, hall_config, T0, policy, device_secret="installation secret")
    with db.write() as s:
        again = create_demo_staff(s, hall_config, T0, policy, device_secret="installation secret")
    assert first == again  # idempotent, same device links
    roles = {entry.role for entry in first}
    assert {"clerk", "manager", "admin", "device screen", "device kiosk"} <= roles
    approvers = [e for e in first if e.role.startswith("approver")]
    assert approvers, "one approver per department of the catalogue"
    assert _pin(db, policy, "c01", "1234", 24).identity is not None
    manager = _login(db, policy, "manager", DEMO_PASSWORD).identity
    assert manager.has_role("manager", policy.hall)
    approver = _login(db, policy, approvers[0].login, DEMO_PASSWORD).identity
    assert approver.departments(policy.hall) == {approvers[0].role.split()[1]}
    screen = next(e for e in first if e.role == "device screen" and e.login == "zone:front_intake")
    token = screen.secret.rsplit("device=", 1)[1]
    with db.read() as s:
        assert devices.verify_device(s, token).scope == "zone:front_intake"
        assert s.scalar(select(Device.id).where(Device.scope == "hall", Device.kind == "kiosk"))
    text_out = format_demo_logins(first, "http://127.0.0.1:5000")
    assert (
        "manager / hall-demo" in text_out
        and "http://127.0.0.1:5000/screen?zone=front_intake&device=" in text_out
    )


def test_policy_from_config(hall_config):
    import dataclasses

    from hall_ops.config import ConfigError

    def with_raw(**sections):
        return dataclasses.replace(hall_config, raw={**hall_config.raw, **sections})

    default = StaffPolicy.from_config(hall_config)
    assert (default.hall, default.max_failures, default.lockout) == (
        "main",
        5,
        dt.timedelta(minutes=15),
    )
    custom = StaffPolicy.from_config(
        with_raw(
            hall={**hall_config.raw["hall"], "code": "district-3"},
            security={"max_failures": 3, "lockout_minutes": 60},
        )
    )
    assert (custom.hall, custom.max_failures, custom.lockout) == (
        "district-3",
        3,
        dt.timedelta(hours=1),
    )
    for bad in ({"max_failures": 0}, {"lockout_minutes": "15"}, {"min_password_length": True}):
        with pytest.raises(ConfigError):
            StaffPolicy.from_config(with_raw(security=bad))
