"""How a hall finds the other halls of its deployment.

A deployment holds many halls (province → city → district/county → township), each with
its own database (a PostgreSQL schema or a SQLite file) and its own config. The domain
core of one hall never imports the deployment: code that must reach another hall (a case
delivered at another hall, the regional overview) is given a ``HallDirectory``. A
single-hall installation has none, and such features are not offered there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hall_ops.config import HallConfig
    from hall_ops.db import Database

LEVELS = ("province", "city", "district", "township")
"""The levels of the hierarchy, top first (a county is at ``district`` level)."""


@dataclass(frozen=True)
class HallRef:
    """One hall of the deployment, as other halls and the region see it."""

    code: str
    """``[a-z0-9_]{1,32}``: in the hall's URL (``/h/<code>/``), its rooms' channel and
    its database schema."""
    name_zh: str
    name_en: str
    level: str
    parent: str | None
    """The code of the node above, None at the top."""
    floor: bool = True
    """False for a node of the hierarchy that has no hall floor of its own (a province or
    city seen as a region): it groups the halls below it in the overview."""


class HallDirectory(Protocol):
    """The deployment's halls, their databases and configs (one per process)."""

    def halls(self) -> list[HallRef]:
        """Every enabled hall with a floor, in hierarchy order."""
        ...

    def nodes(self) -> list[HallRef]:
        """Every enabled node of the hierarchy (halls and the regions grouping them)."""
        ...

    def hall(self, code: str) -> HallRef | None: ...

    def database(self, code: str) -> Database:
        """The hall's database (KeyError for a code not in the deployment)."""
        ...

    def config(self, code: str) -> HallConfig: ...
