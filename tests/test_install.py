"""A new installation apart from the demo: ``init``, and ``serve`` refusing demo credentials."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import requests
from argon2 import PasswordHasher, profiles

from hall_ops.config import ConfigError, load_config, parse_config
from hall_ops.install import demo_credentials, refuse_demo, write_installation
from hall_ops.staff.demo import create_demo_staff
from hall_ops.staff.policy import StaffPolicy
from tests.conftest import OPEN_NOW, ROOT, make_hall_db
from tests.support.server import HallServer


def _serve(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hall_web", "serve", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_init_writes_a_config_without_clerks_or_pins_and_a_private_instance(tmp_path):
    path = write_installation(tmp_path / "srv", name_zh="某市政务服务中心")
    hall = load_config(path)
    assert hall.name_zh == "某市政务服务中心" and not hall.demo
    assert hall.clerks == () and demo_credentials(hall) == []
    assert hall.database_url == f"sqlite:///{tmp_path / 'srv' / 'instance' / 'hall.db'}"
    assert len(hall.zones) == 5 and hall.schema_upgrade is True
    key = tmp_path / "srv" / "instance" / "secret_key"
    assert len(key.read_text()) == 64 and key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        write_installation(tmp_path / "srv")


def test_demo_credentials_are_named(tmp_path):
    raw = tomllib.loads((ROOT / "config.toml").read_text())
    assert demo_credentials(parse_config(raw, ROOT))[0].startswith("the config is the demo hall")
    raw["hall"]["demo"] = False
    hall = parse_config(raw, ROOT)
    db = make_hall_db(f"sqlite:///{tmp_path / 'hall.db'}", hall)
    assert demo_credentials(hall, db) == []
    policy = StaffPolicy.from_config(
        hall, hasher=PasswordHasher.from_parameters(profiles.CHEAPEST))
    with db.write() as session:
        create_demo_staff(session, hall, OPEN_NOW, policy, device_secret="test")
    [reason] = demo_credentials(hall, db)
    assert "demo staff account(s) are enabled" in reason and "admin" in reason
    with pytest.raises(ConfigError, match="demo staff"):
        refuse_demo(hall, db)
    db.dispose()


def test_serve_refuses_the_demo_hall_without_demo():
    result = _serve("--config", str(ROOT / "config.toml"), "--port", "1")
    assert result.returncode != 0
    assert "refusing to serve with demo credentials" in result.stderr
    assert "[hall] demo = true" in result.stderr


def test_a_wrong_key_stops_the_start_naming_it(tmp_path):
    path = write_installation(tmp_path)
    path.write_text(path.read_text().replace("upgrade = true", "upgrade = true\nurll = 'x'"))
    result = _serve("--config", str(path))
    assert result.returncode != 0
    assert "[database] urll: unknown key" in result.stderr
    path.write_text(path.read_text().replace("urll = 'x'", "upgrade = 'yes'").replace(
        "upgrade = true\n", "", 1))
    with pytest.raises(ConfigError, match=r"\[database\] upgrade: Input should be a valid bool"):
        load_config(path)


def test_a_new_installation_serves_for_real(tmp_path):
    path = write_installation(tmp_path / "srv")
    text = path.read_text().replace("# One [[services]]", """[[services]]
code = "enterprise"
letter = "B"
name_zh = "企业登记"
name_en = "Enterprise registration"
zone = "front_intake"

# One [[services]]""")
    path.write_text(text)
    with HallServer(tmp_path, config=path, demo=False, database_url=load_config(path).database_url
                    ) as server:
        hall = requests.get(f"{server.url}/api/v1/hall", timeout=10).json()
        assert [s["code"] for s in hall["services"]] == ["enterprise"]
    assert "demo" not in server.log()
