"""A department's own approval system, as a separate process the tests can kill and restart.

It checks the hall's signature (401 if wrong), answers 503 to the first
``--fail-first`` requests it ever sees (counted in its store, so a restart
does not reset the outage), then 200; it records every idempotency key it
accepted in a SQLite file, so a restarted server still knows what it has.

    python tests/support/external_approval.py --port P --secret S --store F --fail-first N
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()

    db = sqlite3.connect(args.store, check_same_thread=False, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS received (key TEXT PRIMARY KEY, hits INTEGER, body TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS seen (n INTEGER)")
    if db.execute("SELECT count(*) FROM seen").fetchone()[0] == 0:
        db.execute("INSERT INTO seen VALUES (0)")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            timestamp = self.headers.get("X-Hall-Timestamp", "")
            expected = "sha256=" + hmac.new(args.secret.encode(), timestamp.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("X-Hall-Signature", "")):
                return self._answer(401, {"error": "bad signature"})
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                db.execute("UPDATE seen SET n = n + 1")
                seen = db.execute("SELECT n FROM seen").fetchone()[0]
                if seen <= args.fail_first:
                    return self._answer(503, {"error": "maintenance"})
                db.execute(
                    "INSERT INTO received VALUES (?, 1, ?) "
                    "ON CONFLICT(key) DO UPDATE SET hits = hits + 1", (key, body.decode()))
            self._answer(200, {"accepted": key, "at": dt.datetime.now(dt.UTC).isoformat()})

        def _answer(self, status: int, data: dict) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
