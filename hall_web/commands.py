"""Commands around the app: ``python -m hall_web create-admin`` (the first admin of a new
installation; refused once an admin exists, from then on admins add staff in the admin
page), ``audit verify|roots`` and the demo's staff and devices.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

from flask import Flask

from hall_ops.audit.roots import export
from hall_ops.audit.verify import verify_database
from hall_ops.clock import system_clock
from hall_ops.config import load_config
from hall_ops.db import Database
from hall_ops.errors import HallError
from hall_ops.staff import accounts
from hall_ops.staff.demo import create_demo_staff, format_demo_logins
from hall_ops.staff.policy import StaffPolicy


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("create-admin: the passwords differ")
    return first


def create_admin(
    config_path: str | Path,
    login: str,
    name: str,
    *,
    database_url: str | None = None,
    password_stdin: bool = False,
    deployment: Path | None = None,
    hall_code: str | None = None,
) -> int:
    """``deployment`` and ``hall_code``: the first admin of that hall of a deployment (its
    database and its code, which scopes the grant), instead of ``config_path``'s hall."""
    if deployment is not None:
        from hall_ops.region.deployment import Deployment

        found = Deployment(deployment, database_url=database_url)
        found.prepare()
        try:
            hall, db = found.config(hall_code or ""), found.database(hall_code or "")
        except KeyError:
            found.dispose()
            print(f"create-admin: no hall {hall_code!r} with a floor in {deployment}",
                  file=sys.stderr)
            return 1
    else:
        hall = load_config(config_path)
        db = Database(database_url or hall.database_url)
    policy = StaffPolicy.from_config(hall)
    password = _read_password(password_stdin)
    try:
        db.prepare_schema()
        with db.write(origin="create-admin") as s:
            admin = accounts.create_first_admin(s, login, name, password, system_clock(), policy)
    except HallError as exc:
        print(f"create-admin: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"admin {admin.id} created for hall {policy.hall}; log in at /login")
    return 0


def demo_logins(app: Flask, base_url: str) -> str:
    """Demo staff and devices (made once, kept across restarts), as the lines to print.

    The device tokens derive from the installation's secret key, so a screen opened on an
    earlier run keeps working.
    """
    state = app.extensions["hall_auth"]
    with state.db.write(origin="demo") as s:
        logins = create_demo_staff(
            s, app.extensions["hall"].config, state.clock(), state.policy,
            device_secret=app.config["SECRET_KEY"],
        )
    return format_demo_logins(logins, base_url)


def audit(
    action: str, config_path: str | Path, *, database_url: str | None = None,
    roots_file: Path | None = None,
) -> int:
    """``verify``: every chain and root checked; each finding printed (the first changed or
    removed row of each stream: table, id, seq), exit status 1 if there is one.
    ``roots``: the daily roots as JSON (what the manager's report downloads)."""
    db = Database(database_url or load_config(config_path).database_url)
    try:
        if action == "roots":
            with db.read() as session:
                print(json.dumps(export(session, system_clock()), ensure_ascii=False, indent=1))
            return 0
        report = verify_database(
            db, json.loads(roots_file.read_text()) if roots_file is not None else None)
    finally:
        db.dispose()
    for finding in report.findings:
        print(f"audit: {finding.text()}")
    print(f"audit: {report.rows} rows in {report.streams} streams, {report.roots} daily roots: "
          + ("intact" if report.ok else f"{len(report.findings)} finding(s)"))
    return 0 if report.ok else 1
