"""Start and stop a real ``python -m hall_web serve`` process for the benchmarks.

The benchmarks measure the server as it is deployed, so it runs as its own
process (its own interpreter, GIL and async mode), never inside the load
generator. The process is started by ``tests/support/server.py`` (``HallServer``),
the one way the tests and the benchmarks start a server; here each run gets its
SQLite file in a temporary directory, so a benchmark never touches ``instance/hall.db``.

``kind="production"`` is ``serve`` as ``./hall serve`` runs it (gunicorn's gthread or
gevent worker; eventlet's own server); ``kind="embedded"`` is the same ``serve`` on
Flask-SocketIO's own server, the one it had before (``_embedded_server.py``), to compare.
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import HallServer  # noqa: E402 - needs ROOT on the path
from tests.support.web import HallSession  # noqa: E402

MODES = ("threading", "gevent", "eventlet")
KINDS = ("production", "embedded")
ENTRIES = {
    "production": ("-m", "hall_web"),
    "embedded": (str(ROOT / "bench" / "_embedded_server.py"),),
    "bare": (str(ROOT / "bench" / "bare_server.py"),),  # the floor: no hall at all
}


@contextmanager
def server(
    async_mode: str = "threading", *, database_url: str | None = None, kind: str = "production",
    workdir: Path | None = None,
) -> Iterator[HallServer]:
    """``with server(mode) as srv: srv.url`` — a hall server whose log and SQLite file
    (unless ``database_url``) live in a temporary directory, or in ``workdir`` (a server
    started again there finds the same database). ``kind="bare"``: ``bare_server.py``."""
    if async_mode not in MODES:
        raise ValueError(f"async mode must be one of {MODES}")
    if kind not in ENTRIES:
        raise ValueError(f"server kind must be one of {tuple(ENTRIES)}")
    with tempfile.TemporaryDirectory(prefix="hall-bench-") as tmp, HallServer(
        workdir or Path(tmp), "--async-mode", async_mode, database_url=database_url,
        entry=ENTRIES[kind]
    ) as srv:
        yield srv


def clerk_session(base_url: str, window: int, clerk: str, pin: str = "1234") -> requests.Session:
    """An HTTP session logged in at ``window`` (the demo PIN is 1234), sending its CSRF token
    as the clerk console does."""
    session = HallSession(base_url)
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


if __name__ == "__main__":  # smoke check: python bench/_server.py [mode [kind]]
    with server(*sys.argv[1:2], kind=sys.argv[2] if len(sys.argv) > 2 else "production") as srv:
        print(srv.url, requests.get(f"{srv.url}/api/v1/hall", timeout=5).json()["name_en"])
