"""Start and stop a real ``python -m hall_web serve`` process for the benchmarks.

The benchmarks measure the server as it is deployed, so it runs as its own
process (its own interpreter, GIL and async mode), never inside the load
generator. Each run gets a copy of the demo config whose SQLite file lives in
a temporary directory, so a benchmark never touches ``instance/hall.db``.
"""

from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
MODES = ("threading", "gevent", "eventlet")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config_copy(directory: Path, database_url: str | None = None) -> Path:
    """The demo config.toml with its [database] url pointed at ``database_url``
    (default: a fresh SQLite file in ``directory``) and without cameras."""
    url = database_url or f"sqlite:///{directory / 'hall.db'}"
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text, count = re.subn(r'(?m)^url\s*=\s*".*"$', f'url = "{url}"', text, count=1)
    if count != 1:
        raise RuntimeError("config.toml has no [database] url line to replace")
    # No [[cameras]]: with --demo the server simulates each loopback camera on its
    # fixed port, which would clash with a demo (or another server) on this machine.
    text = re.sub(r"(?ms)^\[\[cameras\]\]\n.*?(?=^\[|\Z)", "", text)
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Server:
    """``with Server(mode) as srv: srv.url`` — a hall server on a free loopback port."""

    def __init__(
        self,
        async_mode: str = "threading",
        *,
        database_url: str | None = None,
        message_queue: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        if async_mode not in MODES:
            raise ValueError(f"async mode must be one of {MODES}")
        self.async_mode = async_mode
        self.database_url = database_url
        self.message_queue = message_queue
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="hall-bench-")
        self.dir = Path(self._tmp.name)
        self.log_path = self.dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def sqlite_path(self) -> Path:
        return self.dir / "hall.db"

    def start(self) -> Server:
        config = config_copy(self.dir, self.database_url)
        cmd = [
            str(PYTHON), "-m", "hall_web", "serve", "--config", str(config), "--demo",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--async-mode", self.async_mode, "--no-jobs",
        ]
        if self.message_queue:
            cmd += ["--message-queue", self.message_queue]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                         env=env)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/api/v1/hall", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {self.startup_timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        self._tmp.cleanup()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def clerk_session(base_url: str, window: int, clerk: str, pin: str = "1234") -> requests.Session:
    """An HTTP session logged in at ``window`` (the demo PIN is 1234)."""
    session = requests.Session()
    reply = session.post(f"{base_url}/api/v1/windows/{window}/login",
                         json={"clerk": clerk, "pin": pin}, timeout=10)
    if reply.status_code != 200:
        raise RuntimeError(f"login at window {window} failed: {reply.status_code} {reply.text}")
    return session


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


if __name__ == "__main__":  # smoke check: python bench/_server.py [mode]
    with Server(sys.argv[1] if len(sys.argv) > 1 else "threading") as srv:
        print(srv.url, requests.get(f"{srv.url}/api/v1/hall", timeout=5).json()["name_en"])
