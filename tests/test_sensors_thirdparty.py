"""ONVIF software nobody on this project wrote, against ours.

* ipycam (PyPI, a pure-Python virtual IP camera with ONVIF device, media and PTZ
  services but no events, like most plain video cameras): its own ONVIF HTTP
  handler is served on loopback and polled as the hall polls a camera.
* onvif-python (PyPI, nirsimetri): a third-party ONVIF client run against our
  simulator in a child process. It installs a top-level ``onvif`` package, as
  onvif-zeep-async does, so it lives in its own folder (``.venv/third-party``,
  filled by pip on first use) on that process's PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from hall_ops.db import Database
from sensors.config import CameraConfig
from sensors.poller import CameraPool, poll_cameras
from sensors.simulator import CameraSimulator
from tests.support.cameras import by_camera

ROOT = Path(__file__).resolve().parent.parent
ONVIF_PYTHON = "onvif-python==0.4.7"
THIRD_PARTY = ROOT / ".venv" / "third-party" / ONVIF_PYTHON.replace("==", "-")


@pytest.fixture
def ipycam() -> Iterator[tuple[int, str]]:
    """ipycam's ONVIF service on loopback, advertising 127.0.0.3 (another interface)."""
    from ipycam.config import CameraConfig as IpycamConfig
    from ipycam.http import IPCameraHTTPHandler
    from ipycam.onvif import ONVIFService

    server = ThreadingHTTPServer(("127.0.0.1", 0), IPCameraHTTPHandler)
    port = server.server_address[1]
    config = IpycamConfig(name="Plain camera", local_ip="127.0.0.3", onvif_port=port)
    config.set_credentials("admin", "ipycam-pw")
    # ipycam's handler reads the camera from a class attribute: give this server its own.
    server.RequestHandlerClass = type("Handler", (IPCameraHTTPHandler,), {
        "camera": SimpleNamespace(config=config, onvif=ONVIFService(config))})
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield port, "ipycam-pw"
    server.shutdown()
    server.server_close()


def test_a_video_camera_without_events_has_no_counting_analytics(
    db: Database, ipycam: tuple[int, str]
) -> None:
    """Finding 5. Before: this camera was 'offline' with the library's words ("Device
    doesn`t support service: events …") instead of "no counting analytics"."""
    port, password = ipycam
    config = CameraConfig("cam-plain", "business", "127.0.0.1", port, "admin", password)
    pool = CameraPool([config], timeout=3.0)  # ipycam keeps real time: the system clock
    try:
        reading = by_camera(poll_cameras(db, pool, pool.clock()))["cam-plain"]
        assert reading.status == "no_analytics"
        assert reading.error == (f"camera cam-plain (127.0.0.1:{port}) has no events service, "
                                 "so no counting analytics")
        wrong = CameraPool([CameraConfig("cam-x", "business", "127.0.0.1", port, "admin",
                                         "nope")], timeout=3.0)
        try:
            assert by_camera(poll_cameras(db, wrong, wrong.clock()))["cam-x"].status == \
                "unauthorized"
        finally:
            wrong.close()
    finally:
        pool.close()


@pytest.fixture(scope="session")
def onvif_python() -> Path:
    if not (THIRD_PARTY / "onvif" / "client.py").is_file():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--target", str(THIRD_PARTY), ONVIF_PYTHON], check=True, timeout=300)
    return THIRD_PARTY


def run_onvif_python(path: Path, port: int, password: str, *extra: str) -> dict:
    script = ROOT / "tests" / "support" / "onvif_python_client.py"
    done = subprocess.run(
        [sys.executable, str(script), "127.0.0.1", str(port), "admin", password, *extra],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(path)})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_third_party_client_against_the_simulator(onvif_python: Path) -> None:
    """onvif-python reads the device, the events and the analytics rules; its Renew and
    Unsubscribe carry no WS-Addressing and are refused exactly as the real pull point of
    finding 1 refused ours."""
    with CameraSimulator("front_intake", password="p") as sim:
        got = run_onvif_python(onvif_python, sim.port, "p")
        assert {k: got[k] for k in ("manufacturer", "scopes", "max_pull_points", "messages",
                                    "rules")} == {"manufacturer": "hall-ops", "scopes": 4,
                                                  "max_pull_points": 10, "messages": 1,
                                                  "rules": ["Occupancy"]}
        for call in ("renew", "unsubscribe"):
            assert "MessageAddressingHeaderRequired" in got[call]
        assert sim.requests.count("SetSynchronizationPoint") == 1
    with CameraSimulator("front_intake", password="p", http_digest=True) as sim:
        assert run_onvif_python(onvif_python, sim.port, "p", "digest")["manufacturer"] == \
            "hall-ops"
