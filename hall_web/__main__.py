"""``python -m hall_web serve``: run the hall on one process.

The async mode is read before anything else is imported, because gevent and
eventlet must patch the standard library first.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m hall_web")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the hall (HTTP + Socket.IO)")
    serve.add_argument("--config", default="config.toml")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--database-url")
    serve.add_argument("--async-mode", choices=["threading", "gevent", "eventlet"])
    serve.add_argument("--message-queue", help="e.g. redis://127.0.0.1:6379/0")
    serve.add_argument("--demo", action="store_true",
                       help="take tickets at any hour (demo hall on a laptop)")
    serve.add_argument("--no-jobs", action="store_true", help="do not start the scheduler")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    config_path = Path(args.config)
    with config_path.open("rb") as fh:
        async_mode = args.async_mode or tomllib.load(fh).get("server", {}).get(
            "async_mode", "threading"
        )
    if async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif async_mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()

    from hall_web.app import create_app
    from hall_web.jobs import start_jobs

    app = create_app(
        config_path,
        always_open=args.demo,
        database_url=args.database_url,
        async_mode=async_mode,
        message_queue=args.message_queue,
    )
    hall = app.extensions["hall"]
    host = args.host or hall.config.host
    port = args.port or hall.config.port
    if not args.no_jobs:
        start_jobs(app)
    base = f"http://{host}:{port}"
    print(f"hall-ops: {hall.config.name_zh} ({async_mode}, {hall.db.dialect})", flush=True)
    for label, path in (
        ("kiosk   取号机", "/kiosk"),
        ("screen  叫号屏", "/screen"),
        ("clerk   窗口", "/clerk"),
        ("manager 管理", "/manager"),
    ):
        print(f"  {label}: {base}{path}", flush=True)
    if args.demo:
        print("  demo: opening hours ignored; every clerk's PIN is 1234", flush=True)
    hall.socketio.run(
        app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False,
        use_reloader=False,
    )


if __name__ == "__main__":
    main()
