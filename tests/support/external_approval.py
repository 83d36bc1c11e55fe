"""A department's own approval system: a separate process the tests can kill and restart.

Run as a script it serves ``POST /intake`` (and ``GET /health``) on loopback:

- checks the hall's signature — HMAC-SHA256 with the shared secret over
  ``<X-Hall-Timestamp>.<body>``, timestamp within 300 s — and that the
  ``Idempotency-Key`` header matches the body; 401 / 400 otherwise;
- answers 503 to the first ``--fail-first`` signed requests of this process
  (a system warming up after a start), then 200;
- records every accepted message by idempotency key in a SQLite file, and
  every request in a log there, committed before it answers: a restarted
  server still knows what it has, and a key arriving twice is stored once;
- with ``--hang-after K``: once K distinct keys are stored, it answers nothing
  more (the K-th request included) until killed — a deterministic moment for
  a test to kill it "mid-way" with a message stored but never acknowledged.

It checks signatures with its own stdlib code, not the hall's, so a test
using it checks the wire contract rather than one function against itself.
``ExternalApproval`` starts, kills and restarts it from a test.

    python tests/support/external_approval.py --port P --secret S --store F [--fail-first N]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOLERANCE_S = 300
SCHEMA = """
CREATE TABLE IF NOT EXISTS received (
    key TEXT PRIMARY KEY, body TEXT NOT NULL, deliveries INTEGER NOT NULL, first_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, key TEXT, status INTEGER NOT NULL, pid INTEGER NOT NULL,
    at REAL NOT NULL
);
"""


def serve(port: int, secret: str, store: str, fail_first: int, hang_after: int | None) -> None:
    db = sqlite3.connect(store, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    lock = threading.Lock()
    hang = threading.Event()
    forever = threading.Event()  # never set
    state = {"signed_requests": 0}

    def log(key: str | None, status: int) -> None:
        db.execute("INSERT INTO requests (key, status, pid, at) VALUES (?, ?, ?, ?)",
                   (key, status, os.getpid(), time.time()))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(200 if self.path == "/health" else 404, {"pid": os.getpid()})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path != "/intake":
                return self._answer(404, {"error": "no such endpoint"})
            timestamp = self.headers.get("X-Hall-Timestamp", "")
            signature = self.headers.get("X-Hall-Signature", "")
            expected = "sha256=" + hmac.new(
                secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= TOLERANCE_S
            key = self.headers.get("Idempotency-Key")
            with lock:
                if not fresh or not hmac.compare_digest(expected.encode(), signature.encode()):
                    log(key, 401)
                    return self._answer(401, {"error": "bad or stale signature"})
                try:
                    message = json.loads(body)
                except ValueError:
                    message = None
                matches = isinstance(message, dict) and message.get("idempotency_key") == key
                if not key or not matches:
                    log(key, 400)
                    return self._answer(400, {"error": "Idempotency-Key does not match the body"})
            if hang.is_set():
                forever.wait()  # the process is about to be killed
            with lock:
                state["signed_requests"] += 1
                if state["signed_requests"] <= fail_first:
                    log(key, 503)
                    return self._answer(503, {"error": "warming up"})
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "INSERT INTO received (key, body, deliveries, first_at) VALUES (?, ?, 1, ?) "
                    "ON CONFLICT(key) DO UPDATE SET deliveries = deliveries + 1",
                    (key, body.decode("utf-8"), time.time()),
                )
                log(key, 200)
                db.execute("COMMIT")
                stored = db.execute("SELECT count(*) FROM received").fetchone()[0]
                if hang_after is not None and stored >= hang_after:
                    hang.set()
            if hang.is_set():
                forever.wait()  # stored, never acknowledged
            self._answer(200, {"accepted": key})

        def _answer(self, status: int, data: dict) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)  # reuses the address
    server.daemon_threads = True
    server.serve_forever()


class ExternalApproval:
    """Controls one external approval server process on a fixed port with a persistent store."""

    def __init__(self, workdir: Path, port: int, secret: str) -> None:
        self.workdir, self.port, self.secret = workdir, port, secret
        self.store = workdir / f"external-{port}.sqlite"
        self.url = f"http://127.0.0.1:{port}/intake"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, *, fail_first: int = 0, hang_after: int | None = None,
              timeout: float = 30) -> ExternalApproval:
        import requests

        command = [sys.executable, __file__, "--port", str(self.port), "--secret", self.secret,
                   "--store", str(self.store), "--fail-first", str(fail_first)]
        if hang_after is not None:
            command += ["--hang-after", str(hang_after)]
        self.starts += 1
        log = (self.workdir / f"external-{self.port}-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"external approval server exited: {self.process.returncode}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("external approval server did not answer in time")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(15)

    def received(self) -> dict[str, dict]:
        """Stored messages by idempotency key: ``{"body": dict, "deliveries": n}``."""
        if not self.store.exists():
            return {}
        with closing(sqlite3.connect(self.store)) as db:
            rows = db.execute("SELECT key, body, deliveries FROM received").fetchall()
        return {key: {"body": json.loads(body), "deliveries": n} for key, body, n in rows}

    def statuses(self) -> list[tuple[str | None, int]]:
        """Every request in arrival order: (idempotency key, status answered)."""
        if not self.store.exists():
            return []
        with closing(sqlite3.connect(self.store)) as db:
            return db.execute("SELECT key, status FROM requests ORDER BY id").fetchall()

    def __enter__(self) -> ExternalApproval:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--hang-after", type=int, default=None)
    args = parser.parse_args()
    serve(args.port, args.secret, args.store, args.fail_first, args.hang_after)
