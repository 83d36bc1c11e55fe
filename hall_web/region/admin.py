"""The halls admin at a deployment's root: ``/admin/halls`` and ``/api/v1/admin/halls``.

Admins granted a node add halls below it, rename, disable, enable and move the nodes it
covers (``hall_ops.region.admin``, each change an audit row whose actor is the session's
login). After a change this process reads the hierarchy again and starts (or stops
serving) the hall's app at once; other processes show the change in their overview within
its interval and serve an added hall's pages from their next start.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from sqlalchemy.orm import Session

from hall_ops.region import admin as halls_admin
from hall_ops.region.deployment import Deployment
from hall_web.access import access
from hall_web.api import answers, api
from hall_web.region.auth import region_auth, regional_user
from hall_web.schemas.regional import AddHall, AdminHall, ChangeHall, HallsAdmin

bp = Blueprint("halls_admin", __name__)


def _deployment() -> Deployment:
    found: Deployment = current_app.extensions["deployment"]
    return found


def _origin() -> str:
    return request.remote_addr or "-"


def _covered(session: Session) -> set[str]:
    """What this admin may change, read from the whole table (disabled halls too)."""
    user = regional_user()
    return halls_admin.covered(session, {g.hall for g in user.identity.grants
                                         if g.role == "admin"})


def _listing() -> dict[str, Any]:
    with _deployment().db.read() as s:
        covered = _covered(s)
        halls = halls_admin.all_halls(s)
        changes = halls_admin.changes(s)
    return {"halls": [{**h, "covered": h["code"] in covered} for h in halls],
            "changes": changes}


def _serve(code: str) -> None:
    """Read the hierarchy again; start the hall's app if it is an enabled floor not served,
    stop serving it if it is not one any more."""
    from hall_web.deployment import mount_hall, unmount_hall  # it imports this module

    root: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    deployment = _deployment()
    deployment.refresh()
    floor = any(h.code == code for h in deployment.halls())
    served = code in root.extensions["halls"]
    if floor and not served:
        mount_hall(root, code)
    elif served and not floor:
        unmount_hall(root, code)


@bp.get("/admin/halls")
@access("admin")
def halls_page() -> str:
    return render_template("region/halls_admin.html")


@bp.get("/api/v1/admin/halls")
@access("admin")
@api.validate(resp=answers(HTTP_200=HallsAdmin))
def list_halls() -> Any:
    """Every node (disabled ones too), which this admin may change, and the audit trail."""
    return jsonify(_listing())


@bp.post("/api/v1/admin/halls")
@access("admin")
@api.validate(json=AddHall, resp=answers(HTTP_201=AdminHall, errors=(403, 404, 409)))
def add_hall(json: AddHall) -> Any:
    user, state = regional_user(), region_auth()
    with _deployment().db.write(origin=_origin()) as s:
        row = halls_admin.add_hall(
            s, user.login, _covered(s), code=json.code, name_zh=json.name_zh,
            name_en=json.name_en, level=json.level, parent=json.parent,
            template=json.template, now=state.clock())
        view = halls_admin.hall_view(row)
    _serve(json.code)
    return jsonify({**view, "covered": True}), 201


@bp.patch("/api/v1/admin/halls/<code>")
@access("admin")
@api.validate(json=ChangeHall, resp=answers(HTTP_200=AdminHall, errors=(403, 404, 409)))
def change_hall(code: str, json: ChangeHall) -> Any:
    """New names, another parent, enabled or not: each an audit row of its own."""
    user, state = regional_user(), region_auth()
    now = state.clock()
    with _deployment().db.write(origin=_origin()) as s:
        covered = _covered(s)
        if json.name_zh is not None or json.name_en is not None:
            halls_admin.rename_hall(s, user.login, covered, code, name_zh=json.name_zh,
                                    name_en=json.name_en, now=now)
        if json.parent is not None:
            halls_admin.move_hall(s, user.login, covered, code, json.parent, now)
        if json.enabled is not None:
            halls_admin.set_enabled(s, user.login, covered, code, json.enabled, now)
        row = halls_admin.hall(s, code)
        view = {**halls_admin.hall_view(row), "covered": code in covered}
    _serve(code)
    return jsonify(view)
