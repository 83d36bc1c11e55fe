"""The built wheel is a whole hall: templates, static/ and every dependency, no source tree.

Builds the wheel from a copy of the working tree (so a stale ``build/`` cannot hide
a missing file), installs it with its real dependencies into a fresh venv (pip's
cache makes that quick), and serves the hall from the installed package with the
process started outside the repository, on a config folder of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.server import ROOT, HallServer

pytestmark = pytest.mark.slow

# What is not part of the source: local environments, build output, run-time state.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".ruff_cache", "instance", "test-artifacts", "node_modules", "results",
)


def _run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv (no system site-packages) holding only the wheel and its deps."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    _run(sys.executable, "-m", "venv", tmp / "venv", cwd=tmp)
    python = tmp / "venv" / "bin" / "python"
    pip = (python, "-m", "pip", "--disable-pip-version-check", "--quiet")
    _run(*pip, "wheel", "--no-deps", "--wheel-dir", tmp / "dist", source, cwd=tmp)
    wheels = list((tmp / "dist").glob("hall_ops-*.whl"))
    assert len(wheels) == 1, wheels
    _run(*pip, "install", wheels[0], cwd=tmp)
    return python


def test_installed_wheel_serves_pages_static_files_and_the_catalogue(
    installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)  # only the venv's site-packages
    site = tmp_path / "site"  # a hall's own folder: its config and catalogue, no code
    site.mkdir()
    shutil.copy(ROOT / "config.toml", site / "config.toml")
    shutil.copytree(ROOT / "data" / "catalogue", site / "data" / "catalogue")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    package = Path(_run(installed, "-c", "import hall_web; print(hall_web.__file__)",
                        cwd=elsewhere).strip()).parent
    assert package.is_relative_to(installed.parent.parent), package
    vendored = package / "static" / "vendor" / "socket.io.min.js"
    assert vendored.is_file() and not vendored.is_symlink()

    with HallServer(tmp_path, config=site / "config.toml", python=installed,
                    cwd=elsewhere) as server:
        screen = requests.Session()  # the hall's screen device, by its demo link
        page = screen.get(server.device_link("/screen"), timeout=10)
        assert page.status_code == 200, server.log()
        assert "/static/vendor/socket.io.min.js" in page.text
        assert "市民中心行政服务大厅" in page.text  # the template, filled from config.toml

        asset = requests.get(f"{server.url}/static/vendor/socket.io.min.js", timeout=10)
        assert asset.status_code == 200, server.log()
        assert asset.content == (ROOT / "static" / "vendor" / "socket.io.min.js").read_bytes()
        assert asset.content == vendored.read_bytes()

        # The catalogue path in config.toml is relative to the config file.
        items = requests.get(f"{server.url}/api/v1/services/investment/items", timeout=10)
        assert items.status_code == 200, server.log()
        assert [i["code"] for i in items.json()["items"]][:2] == ["TZ-01", "TZ-02"]

    assert (site / "instance" / "secret_key").is_file()  # beside the config, not site-packages
    assert not (package.parent / "instance").exists()
