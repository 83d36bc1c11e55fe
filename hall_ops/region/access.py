"""Who sees which part of the hierarchy: a regional grant names a node of the deployment
(``staff_roles.hall`` in the deployment's database) and covers that node and every node
below it, so a city's manager sees the city's halls and a district's only the district's."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from hall_ops.region.directory import HallRef


def subtree(nodes: Sequence[HallRef], roots: Collection[str]) -> set[str]:
    """The codes of ``roots`` (those in ``nodes``) and of every node below them."""
    children: dict[str | None, list[str]] = {}
    for node in nodes:
        children.setdefault(node.parent, []).append(node.code)
    known = {node.code for node in nodes}
    seen: set[str] = set()
    stack = [code for code in roots if code in known]
    while stack:
        code = stack.pop()
        if code not in seen:
            seen.add(code)
            stack.extend(children.get(code, []))
    return seen
