"""``python -m hall_web serve | backup | restore``.

``serve`` runs one hall process on gunicorn (``hall_web.server``). The async mode is
read before anything else is imported: eventlet must patch the standard library first,
and gevent is patched by gunicorn's worker before the app is built there.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


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
    for name, flag, words in (("backup", "--to", "copy the database to FILE while the hall runs"),
                              ("restore", "--from", "replace the database with FILE's copy "
                                                    "(stop the hall first)")):
        command = sub.add_parser(name, help=words)
        command.add_argument(flag, dest="file", required=True, metavar="FILE")
        command.add_argument("--config", default="config.toml")
        command.add_argument("--database-url")
    return parser.parse_args(argv)


def _start_camera_simulators(hall, stack: contextlib.ExitStack) -> None:
    """Demo hall: a simulated ONVIF camera answers for every camera configured on loopback."""
    from sensors.config import parse_cameras
    from sensors.simulator import CameraSimulator

    for camera in parse_cameras(hall.raw, {z.code for z in hall.zones}):
        if camera.host in ("127.0.0.1", "localhost"):
            stack.enter_context(CameraSimulator(
                camera.zone, user=camera.user, password=camera.password, role=camera.role,
                host="127.0.0.1", port=camera.port, timezone=hall.timezone.key, name=camera.name,
            ))
            print(f"  camera simulator {camera.name} ({camera.zone}) on port {camera.port}",
                  flush=True)


def _backup_or_restore(args: argparse.Namespace) -> None:
    from hall_ops import backup
    from hall_ops.config import load_config

    url = args.database_url or load_config(args.config).database_url
    file = Path(args.file)
    try:
        if args.command == "backup":
            backup.backup(url, file)
        else:
            backup.restore(url, file)
    except backup.BackupError as exc:
        sys.exit(f"hall-ops {args.command}: {exc}")
    done = "backed up to" if args.command == "backup" else "restored from"
    print(f"hall-ops: database {done} {file}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.command in ("backup", "restore"):
        _backup_or_restore(args)
        return
    config_path = Path(args.config)
    with config_path.open("rb") as fh:
        async_mode = args.async_mode or tomllib.load(fh).get("server", {}).get(
            "async_mode", "threading"
        )
    if async_mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()

    from sqlalchemy.engine import make_url

    from hall_ops.config import load_config
    from hall_web import server
    from hall_web.logs import configure_logging

    hall = load_config(config_path)
    configure_logging(hall.server.log_format)
    host = args.host or hall.host
    port = args.port or hall.port
    simulators = contextlib.ExitStack()

    def load() -> Flask:
        """Build the app where it is served: in gunicorn's worker, after gevent patched it."""
        from hall_web.app import create_app
        from hall_web.jobs import start_jobs

        app = create_app(
            hall,
            always_open=args.demo,
            database_url=args.database_url,
            async_mode=async_mode,
            message_queue=args.message_queue,
        )
        if args.demo and not args.no_jobs:  # no poller, no need for cameras
            _start_camera_simulators(hall, simulators)
        if not args.no_jobs:
            start_jobs(app)
        return app

    base = f"http://{host}:{port}"
    dialect = make_url(args.database_url or hall.database_url).get_backend_name()
    print(f"hall-ops: {hall.name_zh} ({async_mode}, {dialect})", flush=True)
    for label, path in (
        ("kiosk   取号机", "/kiosk"),
        ("screen  叫号屏", "/screen"),
        ("clerk   窗口", "/clerk"),
        ("manager 管理", "/manager"),
    ):
        print(f"  {label}: {base}{path}", flush=True)
    if args.demo:
        print("  demo: opening hours ignored; every clerk's PIN is 1234", flush=True)
    server.run(load, async_mode=async_mode, host=host, port=port, options=hall.server)


if __name__ == "__main__":
    main()
