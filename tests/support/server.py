"""Start the real hall server (``python -m hall_web serve``) as a subprocess on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(
    workdir: Path, *args: str, port: int | None = None, timeout: float = 60
) -> Iterator[str]:
    """Yield the base URL once the server answers; stop it afterwards.

    Without ``--database-url`` among ``args`` it gets a fresh SQLite file in ``workdir``.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "hall_web", "serve", "--config", str(ROOT / "config.toml"),
               "--demo", "--no-jobs", "--port", str(port), *args]
    if "--database-url" not in args:
        command += ["--database-url", f"sqlite:///{workdir / 'hall.db'}"]
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(workdir / f'server-{port}.log').read_text()}")
            try:
                if requests.get(base + "/api/v1/hall", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer in time")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
