"""Which services a window may serve: one rule for the planner, auto mode, the simulation
and the manager's apply check."""

from __future__ import annotations

from collections.abc import Iterable

from hall_ops.config import WindowConfig


def window_skills(windows: Iterable[WindowConfig]) -> dict[int, frozenset[str]]:
    """A window may serve what the configured windows of its zone and kind serve.

    So an intake window takes any board's intake and a delivery window only
    delivery: the planner does not send a result-delivery clerk to register
    companies, and a window never leaves its zone.
    """
    windows = list(windows)
    by_kind: dict[tuple[str, str], set[str]] = {}
    for w in windows:
        by_kind.setdefault((w.zone, w.kind), set()).update(w.services)
    return {w.number: frozenset(by_kind[(w.zone, w.kind)]) for w in windows}
