"""A deployment: many halls, one ``deployment.toml``, one database for the hierarchy.

::

    [deployment]
    name_zh = "某市政务服务"
    name_en = "City Government Services"
    database = "sqlite:///instance/deployment.db"   # or postgresql+psycopg://…
    message_queue = ""                             # redis://… for several processes

    [[halls]]
    code = "city"                # [a-z0-9_]{1,32}: /h/city/, schema hall_city
    name_zh = "市民中心"
    name_en = "Citizen Centre"
    level = "city"               # province | city | district | township
    config = "config.toml"       # the hall's own config; omitted: a region node, no floor

    [[halls]]
    code = "xihu"
    parent = "city"
    …

The file seeds the ``halls`` table of the deployment's database on the first start; from
then on the table is the truth (an admin may add halls there). Each hall keeps its own
database, derived from the deployment's: on PostgreSQL the schema ``hall_<code>`` of the
same database (one pool per process for all of them, ``hall_ops.db``), on SQLite the file
``instance/halls/<code>.db``. Each hall runs its own config unchanged, except what the
deployment decides: its code (the scope of its staff grants and devices), its instance
folder (``instance/halls/<code>/``), the message queue and its own channel on it, and
how the process serves (``[server]`` of deployment.toml).
"""

from __future__ import annotations

import dataclasses
import threading
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError
from sqlalchemy import select
from sqlalchemy.engine import make_url

from hall_ops.config import ConfigError, HallConfig, ServerOptions, load_config
from hall_ops.config_file import Code, JobsSection, Name, Section, where
from hall_ops.db import MAX_OVERFLOW, POOL_SIZE, Database
from hall_ops.region.directory import LEVELS, HallRef
from hall_ops.region.models import RegionHall

HALL_CODE = r"^[a-z0-9][a-z0-9_]{0,31}$"
"""A hall's code: in its URL, schema and channel; a letter or digit first, as ``[hall] code``."""
SEAT = Literal["province", "city", "district", "township"]


class DeploymentSection(Section):
    name_zh: Name = "政务服务"
    name_en: Name = "Government Services"
    database: Name = "sqlite:///instance/deployment.db"
    """The hierarchy's database, and on PostgreSQL every hall's (a schema each)."""
    upgrade: bool = True
    """Migrate the schemas at start, or refuse one that is behind (as ``[database]``)."""
    message_queue: str = ""
    """Redis URL the processes share: Socket.IO (a channel per hall), rate limits, leader."""
    message_queue_channel: Code = "hall-ops"
    """Hall ``x`` speaks on ``<channel>:x``, so a call reaches exactly its hall's screens."""
    pool_size: Annotated[int, Field(ge=1, le=200)] = POOL_SIZE
    max_overflow: Annotated[int, Field(ge=0, le=200)] = MAX_OVERFLOW
    """The PostgreSQL pool all halls of a process share (``hall_ops.db``)."""
    demo: bool = False
    """The demo deployment, which ``serve`` runs only with ``--demo``."""


class DeploymentServerSection(Section):
    """How ``serve --deployment`` runs the process (as a hall's ``[server]``)."""

    host: Name = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 5000
    async_mode: Literal["threading", "gevent", "eventlet"] = "threading"
    connections: Annotated[int, Field(ge=10, le=100_000)] = 1000
    graceful_timeout: Annotated[int, Field(ge=1, le=600)] = 10
    trusted_proxies: Annotated[int, Field(ge=0, le=5)] = 0
    log_format: Literal["text", "json"] = "text"


class HallEntry(Section):
    code: Annotated[str, Field(pattern=HALL_CODE)]
    name_zh: Name
    name_en: Name
    level: SEAT
    parent: Annotated[str, Field(pattern=HALL_CODE)] | None = None
    config: Name | None = None
    """The hall's config file, relative to deployment.toml; none: a region without a floor."""


class DeploymentFile(Section):
    deployment: DeploymentSection = DeploymentSection()
    server: DeploymentServerSection = DeploymentServerSection()
    jobs: JobsSection = JobsSection()
    """The election of the process that runs every hall's scheduled jobs."""
    halls: Annotated[list[HallEntry], Field(min_length=1)]


def read_deployment(path: str | Path) -> DeploymentFile:
    """The typed file, checked across entries; ``ConfigError`` naming the first problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such deployment file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    try:
        file = DeploymentFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"{path}: {where(first['loc'])}: {message}") from exc
    try:
        check_hierarchy(RegionHall(code=h.code, name_zh=h.name_zh, name_en=h.name_en,
                                   level=h.level, parent_code=h.parent, config_path=h.config)
                        for h in file.halls)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return file


def check_hierarchy(rows: Iterable[RegionHall]) -> None:
    """Codes unique, each parent a node above its child, no cycle, at least one floor."""
    nodes = {}
    for row in rows:
        if row.code in nodes:
            raise ConfigError(f"halls: duplicate code {row.code!r}")
        nodes[row.code] = row
    for row in nodes.values():
        if row.parent_code is None:
            continue
        parent = nodes.get(row.parent_code)
        if parent is None:
            raise ConfigError(f"halls ({row.code}): unknown parent {row.parent_code!r}")
        if LEVELS.index(parent.level) >= LEVELS.index(row.level):
            raise ConfigError(f"halls ({row.code}): a {row.level} cannot be under a "
                              f"{parent.level} ({parent.code})")
    if not any(row.config_path for row in nodes.values()):
        raise ConfigError("halls: no hall has a config (a floor of its own)")


class Deployment:
    """The deployment's halls (``HallDirectory``): their hierarchy from the deployment's
    database, each hall's ``Database`` and ``HallConfig`` made once per process."""

    def __init__(self, path: str | Path, *, database_url: str | None = None,
                 message_queue: str | None = None) -> None:
        """Read ``deployment.toml``; nothing is opened until ``prepare()``."""
        self.path = Path(path).resolve()
        self.base_dir = self.path.parent
        self.file = read_deployment(self.path)
        section = self.file.deployment
        self.instance = self.base_dir / "instance"
        self.url = _relative_to(database_url or section.database, self.base_dir)
        self.dialect = make_url(self.url).get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(f"{self.path}: [deployment] database: SQLite or PostgreSQL, "
                              f"not {self.dialect}")
        self.message_queue = message_queue or section.message_queue or None
        self.db = self._database(None)
        self._lock = threading.Lock()
        self._nodes: list[HallRef] = []
        self._paths: dict[str, str | None] = {}
        self._databases: dict[str, Database] = {}
        self._configs: dict[str, HallConfig] = {}

    @property
    def name_zh(self) -> str:
        return self.file.deployment.name_zh

    @property
    def name_en(self) -> str:
        return self.file.deployment.name_en

    def prepare(self) -> str:
        """Migrate the deployment's database, seed the hierarchy from the file if the table
        is empty, and read it. Returns what was done to the schema."""
        done = self.db.prepare_schema(upgrade=self.file.deployment.upgrade)
        with self.db.write(origin="deployment.toml") as session:
            self.db.serialise_setup(session)
            if session.scalars(select(RegionHall.code).limit(1)).first() is None:
                for position, hall in enumerate(self.file.halls):
                    session.add(RegionHall(
                        code=hall.code, name_zh=hall.name_zh, name_en=hall.name_en,
                        level=hall.level, parent_code=hall.parent, config_path=hall.config,
                        position=position, enabled=True))
                    session.flush()  # a parent before its children
        self.refresh()
        return done

    def refresh(self) -> None:
        """Read the hierarchy again (after an admin changed it)."""
        with self.db.read() as session:
            rows = list(session.scalars(select(RegionHall).where(RegionHall.enabled)))
        check_hierarchy(rows)
        children: dict[str | None, list[RegionHall]] = {}
        for row in rows:
            children.setdefault(row.parent_code, []).append(row)
        ordered: list[HallRef] = []

        def walk(parent: str | None) -> None:
            for row in sorted(children.get(parent, []), key=lambda r: (r.position, r.code)):
                ordered.append(HallRef(row.code, row.name_zh, row.name_en, row.level,
                                       row.parent_code, floor=row.config_path is not None))
                walk(row.code)

        walk(None)
        with self._lock:
            self._nodes = ordered
            self._paths = {row.code: row.config_path for row in rows}

    # ------------------------------------------------------------ HallDirectory

    def nodes(self) -> list[HallRef]:
        return list(self._nodes)

    def halls(self) -> list[HallRef]:
        return [node for node in self._nodes if node.floor]

    def hall(self, code: str) -> HallRef | None:
        return next((node for node in self._nodes if node.code == code), None)

    def database(self, code: str) -> Database:
        self._floor(code)
        with self._lock:
            if code not in self._databases:
                self._databases[code] = self._database(code)
            return self._databases[code]

    def config(self, code: str) -> HallConfig:
        path = self._floor(code)
        with self._lock:
            if code not in self._configs:
                self._configs[code] = self._hall_config(code, self.base_dir / path)
            return self._configs[code]

    # ------------------------------------------------------------ the rest

    def hall_instance(self, code: str) -> Path:
        """What the hall keeps of its own: session key, scans, archive (and its SQLite file
        beside it, ``instance/halls/<code>.db``)."""
        return self.instance / "halls" / code

    def dispose(self) -> None:
        for db in self._databases.values():
            db.dispose()
        self.db.dispose()

    def _floor(self, code: str) -> str:
        path = self._paths.get(code)
        if path is None:
            raise KeyError(f"no hall {code!r} with a floor in this deployment")
        return path

    def _database(self, code: str | None) -> Database:
        section = self.file.deployment
        if self.dialect == "postgresql":
            return Database(self.url, schema=f"hall_{code}" if code else "public",
                            pool_size=section.pool_size, max_overflow=section.max_overflow)
        if code is None:
            return Database(self.url)
        return Database(f"sqlite:///{self.instance / 'halls' / code}.db")

    def _hall_config(self, code: str, path: Path) -> HallConfig:
        """The hall's own file, with what the deployment decides (module docstring)."""
        config = load_config(path)
        raw = config.raw
        given = raw.get("hall", {}).get("code")
        if given not in (None, code):
            raise ConfigError(f"{path}: [hall] code is {given!r}, but the deployment serves "
                              f"this hall as {code!r}; leave [hall] code out")
        channel = f"{self.file.deployment.message_queue_channel}:{code}"
        raw = {**raw, "hall": {**raw.get("hall", {}), "code": code},
               "server": {**raw.get("server", {}), "message_queue_channel": channel,
                          "message_queue": self.message_queue or ""}}
        served = self.file.server
        hall = dataclasses.replace(
            config, raw=raw, message_queue=self.message_queue, async_mode=served.async_mode,
            host=served.host, port=served.port, instance_dir=self.hall_instance(code),
            server=ServerOptions(connections=served.connections,
                                 graceful_timeout=served.graceful_timeout,
                                 trusted_proxies=served.trusted_proxies,
                                 log_format=served.log_format))
        hall.sections  # noqa: B018 - the changed file is checked here, not on first use
        return hall


def _relative_to(url: str, base_dir: Path) -> str:
    """A relative SQLite path starts at the deployment file's folder, as a hall's does."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") \
            and ":memory:" not in url:
        return "sqlite:///" + str((base_dir / url.removeprefix("sqlite:///")).resolve())
    return url
