"""Start the real hall server (``python -m hall_web serve``) as a subprocess on a free port.

The one way tests and benchmarks run a server: browser and async-mode tests, the
scale-out test (two processes), the installed-wheel test (another interpreter, cwd
outside the repository) and ``bench/`` all use :class:`HallServer`. By default it passes
``--demo --no-jobs``: tickets at any hour, and no scheduler or camera simulators, so
several servers can run side by side; ``demo=False`` starts a real installation's config,
``jobs=True`` runs the scheduler (leader election decides which process runs the jobs).
``deployment=`` serves a deployment file instead (``serve --deployment``: the halls at
``/h/<code>/``; ``database_url`` is then the deployment's database).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import requests

ROOT = Path(__file__).resolve().parents[2]


def site_config(workdir: Path, **server: str | int) -> Path:
    """The demo ``config.toml`` copied into ``workdir`` with ``[server]`` keys added (keys
    the demo file does not set, e.g. ``trusted_proxies=1``), for a :class:`HallServer`."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    catalogue = 'path = "data/catalogue"'
    assert catalogue in text and "[server]\n" in text
    text = text.replace(catalogue, f"path = {json.dumps(str(ROOT / 'data' / 'catalogue'))}")
    added = "".join(f"{key} = {json.dumps(value)}\n" for key, value in server.items())
    path = workdir / "config.toml"
    path.write_text(text.replace("[server]\n", "[server]\n" + added, 1), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HallServer:
    """``with HallServer(workdir) as server: server.url`` — a hall server on loopback.

    ``workdir`` holds the log and, unless ``database_url`` is given, a fresh SQLite file.
    ``entry`` replaces ``-m hall_web`` (the benchmarks' ``bench/_embedded_server.py`` runs the
    same ``serve`` on Flask-SocketIO's own server, to compare).
    """

    def __init__(
        self,
        workdir: Path,
        *args: str,
        database_url: str | None = None,
        config: Path = ROOT / "config.toml",
        python: str | Path = sys.executable,
        cwd: Path = ROOT,
        port: int | None = None,
        name: str = "server",
        timeout: float = 60,
        demo: bool = True,
        jobs: bool = False,
        entry: Sequence[str] = ("-m", "hall_web"),
        deployment: Path | None = None,
    ) -> None:
        self.database_url = database_url or f"sqlite:///{workdir / 'hall.db'}"
        served = ["--deployment", str(deployment)] if deployment else ["--config", str(config)]
        self.ready = "/api/v1/halls" if deployment else "/api/v1/hall"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}-{self.port}.log"
        self.command = [
            str(python), *entry, "serve", *served,
            *(["--demo"] if demo else []), *([] if jobs else ["--no-jobs"]),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--database-url", self.database_url, *args,
        ]
        self.cwd = cwd
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> HallServer:
        """Start the process and return once ``/api/v1/hall`` (``/api/v1/halls``) answers."""
        with self.log_path.open("wb") as log:
            # A process group of its own, so gunicorn's master and worker can be killed
            # together; not a session of its own: on Linux a new session is a new scheduler
            # autogroup, which would give the server as much CPU as everything else on the
            # machine together and skew the benchmarks' client/server sharing.
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"}, process_group=0,
            )
        deadline = time.monotonic() + self.timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}{self.ready}", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not answer within {self.timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # gunicorn: a graceful stop of the worker, then the master
            try:
                # A graceful stop waits up to [server] graceful_timeout (10 s) for the open
                # websockets of the test's screens; the test is done with them.
                self.process.wait(3)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __str__(self) -> str:
        """The base URL, so ``f"{server}/kiosk"`` is the kiosk's address."""
        return self.url

    def device_link(self, path: str = "/screen") -> str:
        """The link of the demo device showing ``path`` (``/screen?zone=front_intake``,
        ``/kiosk``), as the server printed it at start (``--demo``)."""
        text = self.log_path.read_text(errors="replace")
        joiner = "&" if "?" in path else "?"
        found = re.search(re.escape(f"{self.url}{path}{joiner}device=") + r"\S+", text)
        if found is None:
            raise LookupError(f"no demo device for {path} in the server's output:\n{self.log()}")
        return found.group(0)

    def log(self) -> str:
        """The end of the server's output, for failure messages."""
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def __enter__(self) -> HallServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def running_server(
    workdir: Path, *args: str, port: int | None = None, timeout: float = 60
) -> Iterator[HallServer]:
    """A :class:`HallServer` on the demo config (``str(server)`` is its base URL)."""
    with HallServer(workdir, *args, port=port, timeout=timeout) as server:
        yield server
