"""Shared fixtures: a real hall database (SQLite file or PostgreSQL) loaded from a config."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from hall_ops import privacy
from hall_ops.config import HallConfig, load_config
from hall_ops.db import Database
from hall_ops.hall import load_hall
from hall_ops.licences import library as licence_library
from hall_ops.licences import signing
from tests.support.services import service_missing

ROOT = Path(__file__).resolve().parent.parent

# One personal-data key for the run, from the environment: apps made in tests and the servers
# they start read it there instead of writing a key file into the repository's instance/.
os.environ.setdefault(privacy.ENV_KEY, privacy.new_key())
privacy.install(privacy.PersonalDataCipher.from_instance(ROOT / "instance"))
# Licences are signed on approval: domain tests sign with the keys apps made in tests use.
licence_library.install(licence_library.Library(
    signing.Keyring.in_instance(ROOT / "instance"), ZoneInfo("Asia/Shanghai")))
PG_ADMIN_URL = os.environ.get("HALL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HALL_TEST_REDIS", "redis://127.0.0.1:6379/0")

# A Wednesday, 10:00 in Shanghai (02:00 UTC): the hall is open.
OPEN_NOW = dt.datetime(2026, 11, 25, 2, 0, 0)


class StepClock:
    """A clock the test moves by hand; every read advances it a millisecond."""

    def __init__(self, start: dt.datetime = OPEN_NOW) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture(scope="session")
def hall_config() -> HallConfig:
    return load_config(ROOT / "config.toml")


def _reachable_pg() -> str | None:
    """None if PostgreSQL answers (starting it if needed), else why not."""
    def ping() -> Exception | None:
        try:
            with create_engine(PG_ADMIN_URL).connect() as conn:
                conn.execute(text("select 1"))
            return None
        except Exception as exc:  # any failure means "not reachable"
            return exc

    if ping() is None:
        return None
    if shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            capture_output=True, timeout=60,
        )
    error = ping()
    return None if error is None else f"PostgreSQL at {PG_ADMIN_URL} unreachable: {error}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    reason = _reachable_pg()
    if reason:
        service_missing(reason)
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"hallops_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The test Redis (a random db index), started as ../shared/README.md says if it is down."""
    if not _redis_up() and shutil.which("redis-server"):
        Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
        Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
             "--port", "6379", "--save", "", "--appendonly", "no",
             "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"],
            capture_output=True, timeout=30,
        )
        for _ in range(50):
            if _redis_up():
                break
            time.sleep(0.1)
    if not _redis_up():
        service_missing(f"Redis at {REDIS_URL} is down and could not be started")
    return REDIS_URL.rsplit("/", 1)[0] + f"/{random.randint(1, 15)}"


def make_hall_db(url: str, hall: HallConfig) -> Database:
    db = Database(url)
    db.create_all()
    with db.write() as session:
        load_hall(session, hall)
    return db


@pytest.fixture
def db(tmp_path: Path, hall_config: HallConfig) -> Iterator[Database]:
    database = make_hall_db(f"sqlite:///{tmp_path / 'hall.db'}", hall_config)
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(
    request: pytest.FixtureRequest, tmp_path: Path, hall_config: HallConfig
) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hall.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    database = make_hall_db(url, hall_config)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run (see tests/support/browser.py)."""
    from tests.support.browser import launch

    yield from launch()
