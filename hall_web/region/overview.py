"""The regional overview at a deployment's root: ``/region`` and ``/api/v1/region/overview``.

Managers granted a node see it and everything below (``hall_ops.region.access``), each hall
with a link to its own live dashboard. The page asks the API again every few seconds rather
than joining a Socket.IO room: the root has no Socket.IO server (each hall has its own, at
``/h/<code>/socket.io``), the figures move by the minute, and with ``FiguresCache`` a hall's
database is read at most once per interval however many managers watch, in each process
behind the address, with nothing shared between processes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request

from hall_ops.region.overview import FiguresCache, regional_overview
from hall_web.access import access
from hall_web.api import answers, api
from hall_web.region.auth import region_auth, regional_user
from hall_web.schemas.regional import RegionOverview

bp = Blueprint("region", __name__)

REFRESH_SECONDS = 5
"""How often the page asks; each hall is read at most once in that time (``FiguresCache``)."""


def _cache() -> FiguresCache:
    cache: FiguresCache = current_app.extensions.setdefault(
        "region_figures", FiguresCache(dt.timedelta(seconds=REFRESH_SECONDS - 1)))
    return cache


def _read_hierarchy(now: dt.datetime) -> None:
    """The hierarchy as the ``halls`` table has it (an admin on another process may have
    changed it), read again at most once per interval: one small query."""
    last: dt.datetime | None = current_app.extensions.get("region_hierarchy_at")
    if last is None or not dt.timedelta(0) <= now - last < dt.timedelta(seconds=REFRESH_SECONDS):
        current_app.extensions["deployment"].refresh()
        current_app.extensions["region_hierarchy_at"] = now


def dashboard_url(code: str) -> str:
    """The hall's live manager dashboard (``hall_web.managers``), below the root's path."""
    return f"{request.script_root}/h/{code}/manager/dashboard"


@bp.get("/region")
@access("manager")
def overview_page() -> str:
    return render_template("region/overview.html", refresh_seconds=REFRESH_SECONDS)


@bp.get("/api/v1/region/overview")
@access("manager")
@api.validate(resp=answers(HTTP_200=RegionOverview))
def overview_api() -> Any:
    """Every hall the manager's grants cover, live, and each node's totals below it."""
    state = region_auth()
    now = state.clock()
    _read_hierarchy(now)
    view = regional_overview(state.directory, now, within=regional_user().granted("manager"),
                             cache=_cache())
    answer = view.as_dict()
    for node in answer["nodes"]:
        node["dashboard"] = dashboard_url(node["code"]) if node["floor"] else None
    return jsonify(refresh_seconds=REFRESH_SECONDS, **answer)
