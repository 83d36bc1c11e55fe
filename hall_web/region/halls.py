"""The halls of the deployment: ``GET /api/v1/halls`` and the page listing them as a tree."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext

from hall_ops.region.deployment import Deployment
from hall_ops.region.directory import HallRef
from hall_web.access import access
from hall_web.api import answers, api
from hall_web.schemas.region import HallList, HallsQuery

bp = Blueprint("halls", __name__)


def deployment() -> Deployment:
    found: Deployment = current_app.extensions["deployment"]
    return found


def hall_url(code: str) -> str:
    """Where a hall's pages are: ``/h/<code>/`` below the root's own path."""
    return f"{request.script_root}/h/{code}/"


def _node(node: HallRef) -> dict[str, Any]:
    return {"code": node.code, "name_zh": node.name_zh, "name_en": node.name_en,
            "level": node.level, "parent": node.parent, "floor": node.floor,
            "url": hall_url(node.code) if node.floor else None}


@bp.get("/api/v1/halls")
@access("public")
@api.validate(query=HallsQuery, resp=answers(HTTP_200=HallList))
def list_halls(query: HallsQuery) -> Any:
    """Every node of the hierarchy, top first (a parent before its children)."""
    chosen = [
        node for node in deployment().nodes()
        if (query.level is None or node.level == query.level)
        and (query.parent is None or node.parent == query.parent)
        and (query.floor is None or node.floor == query.floor)
    ]
    return jsonify(name_zh=deployment().name_zh, name_en=deployment().name_en,
                   halls=[_node(node) for node in chosen])


@bp.get("/")
@access("public")
def index() -> Any:
    """The deployment's halls as a tree, each linking to its pages."""
    nodes = deployment().nodes()
    children: dict[str | None, list[dict[str, Any]]] = {}
    for node in nodes:
        children.setdefault(node.parent, []).append(_node(node))
    return render_template("region/index.html", children=children,
                           deployment={"name_zh": deployment().name_zh,
                                       "name_en": deployment().name_en},
                           level_name=level_name)


def level_name(level: str) -> str:
    return {"province": gettext("province"), "city": gettext("city"),
            "district": gettext("district / county"), "township": gettext("township")}[level]
