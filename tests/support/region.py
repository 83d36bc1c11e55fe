"""Several real halls behind a HallDirectory, for the regional overview's tests and bench:
each hall is the demo config under its own code with its own database (SQLite file or
PostgreSQL database), loaded the way a hall loads itself at start."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hall_ops.config import HallConfig, parse_config
from hall_ops.db import Database
from hall_ops.hall import load_hall
from hall_ops.region.directory import HallRef

ROOT = Path(__file__).resolve().parent.parent.parent


def demo_hall_as(code: str, name_zh: str, name_en: str) -> HallConfig:
    """The demo hall's config as hall ``code``."""
    data = tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))
    data["hall"].update(code=code, name_zh=name_zh, name_en=name_en)
    return parse_config(data, ROOT)


def hall_database(url: str, config: HallConfig) -> Database:
    db = Database(url)
    db.create_all()
    with db.write() as session:
        load_hall(session, config)
    return db


class StaticDirectory:
    """A ``HallDirectory`` over halls made in a test: the nodes in hierarchy order, each
    hall's database and config."""

    def __init__(self, nodes: list[HallRef], databases: dict[str, Database],
                 configs: dict[str, HallConfig]) -> None:
        self._nodes = nodes
        self._databases = databases
        self._configs = configs

    def halls(self) -> list[HallRef]:
        return [n for n in self._nodes if n.floor]

    def nodes(self) -> list[HallRef]:
        return list(self._nodes)

    def hall(self, code: str) -> HallRef | None:
        return next((n for n in self._nodes if n.code == code), None)

    def database(self, code: str) -> Database:
        return self._databases[code]

    def config(self, code: str) -> HallConfig:
        return self._configs[code]

    def dispose(self) -> None:
        for db in self._databases.values():
            db.dispose()
