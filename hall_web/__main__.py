"""``python -m hall_web serve``: run the hall on one process.

Also ``init --dir FOLDER`` (a new installation's config and instance folder) and
``db upgrade|current`` (the schema by hand, for halls with ``[database] upgrade = false``).
The async mode is read before anything else is imported, because gevent and
eventlet must patch the standard library first.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
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
                       help="the demo hall on a laptop: tickets at any hour, demo staff and "
                            "devices (prints their logins)")
    serve.add_argument("--no-jobs", action="store_true", help="do not start the scheduler")
    admin = sub.add_parser("create-admin", help="create the first admin of a new installation")
    admin.add_argument("--config", default="config.toml")
    admin.add_argument("--database-url")
    admin.add_argument("--login", default="admin")
    admin.add_argument("--name", default="管理员")
    admin.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input instead of prompting")
    init = sub.add_parser("init", help="write a new installation's config.toml and instance/")
    init.add_argument("--dir", required=True, type=Path, help="e.g. /srv/hall")
    init.add_argument("--name-zh", default="政务服务大厅")
    init.add_argument("--name-en", default="Administrative Service Hall")
    db = sub.add_parser("db", help="the database schema (migrations)")
    db.add_argument("action", choices=["upgrade", "current"])
    db.add_argument("--config", default="config.toml")
    db.add_argument("--database-url")
    return parser.parse_args(argv)


def _init(args: argparse.Namespace) -> None:
    from hall_ops.install import write_installation

    path = write_installation(args.dir, name_zh=args.name_zh, name_en=args.name_en)
    print(f"hall-ops: wrote {path} and {path.parent / 'instance'}/\n"
          "  next: describe services, windows and clerks in it, then\n"
          f"  python -m hall_web serve --config {path}")


def _db(args: argparse.Namespace) -> None:
    from hall_ops import schema
    from hall_ops.config import load_config
    from hall_ops.db import Database

    db = Database(args.database_url or load_config(args.config).database_url)
    try:
        if args.action == "upgrade":
            print(f"hall-ops: schema {db.prepare_schema()}")
        else:
            with db.engine.connect() as conn:
                print(f"hall-ops: schema at {schema.current_revision(conn)} "
                      f"(this release: {schema.head()})")
    finally:
        db.dispose()


def _start_camera_simulators(hall, stack: contextlib.ExitStack) -> None:
    """Demo hall: a simulated camera answers for every camera configured on loopback,
    unless its port is taken (a real camera or an emulator there is polled instead)."""
    from sensors.config import parse_cameras
    from sensors.simulator import CameraSimulator
    from sensors.vendor_sim import VendorCameraSimulator

    for camera in parse_cameras(hall.raw, {z.code for z in hall.zones}):
        if camera.host not in ("127.0.0.1", "localhost"):
            continue
        simulator: CameraSimulator | VendorCameraSimulator
        if camera.kind == "onvif":
            simulator = CameraSimulator(
                camera.zone, user=camera.user, password=camera.password, role=camera.role,
                host="127.0.0.1", port=camera.port, timezone=hall.timezone.key, name=camera.name)
        else:
            simulator = VendorCameraSimulator(
                camera.kind, camera.zone, user=camera.user, password=camera.password,
                role=camera.role, port=camera.port, timezone=hall.timezone.key,
                channel=camera.channel)
        try:
            stack.enter_context(simulator)
        except OSError as exc:
            print(f"  camera simulator {camera.name}: port {camera.port} is taken ({exc.strerror});"
                  " polling whatever answers there", flush=True)
            continue
        print(f"  camera simulator {camera.name} ({camera.kind}, {camera.zone}) on port "
              f"{camera.port}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    from hall_ops.config import ConfigError
    from hall_ops.schema import SchemaError

    try:
        if args.command == "init":
            _init(args)
        elif args.command == "create-admin":
            from hall_web.commands import create_admin

            sys.exit(create_admin(args.config, args.login, args.name,
                                  database_url=args.database_url,
                                  password_stdin=args.password_stdin))
        elif args.command == "db":
            _db(args)
        else:
            _serve(args)
    except (ConfigError, SchemaError, FileExistsError) as exc:
        raise SystemExit(f"hall-ops: cannot {args.command}: {exc}") from exc


def _serve(args: argparse.Namespace) -> None:
    config_path = Path(args.config)
    if not args.demo:
        from hall_ops.config import load_config
        from hall_ops.install import refuse_demo

        refuse_demo(load_config(config_path))
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

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("zeep").setLevel(logging.WARNING)

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
    if not args.demo:
        from hall_ops.install import refuse_demo

        refuse_demo(hall.config, hall.db)  # the demo's staff accounts in this database
    host = args.host or hall.config.host
    port = args.port or hall.config.port
    simulators = contextlib.ExitStack()
    if args.demo and not args.no_jobs:  # no poller, no need for cameras
        _start_camera_simulators(hall.config, simulators)
    if not args.no_jobs:
        start_jobs(app)
    base = f"http://{host}:{port}"
    print(f"hall-ops: {hall.config.name_zh} ({async_mode}, {hall.db.dialect})", flush=True)
    for label, path in (
        ("kiosk   取号机", "/kiosk"),
        ("screen  叫号屏", "/screen"),
        ("clerk   窗口", "/clerk"),
        ("manager 管理", "/manager"),
        ("approver 后台审批", "/backoffice"),
        ("admin   人员与设备", "/admin/staff"),
    ):
        print(f"  {label}: {base}{path}", flush=True)
    if args.demo:
        from hall_web.commands import demo_logins

        print("  demo: opening hours ignored", flush=True)
        print(demo_logins(app, base), flush=True)
    hall.socketio.run(
        app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False,
        use_reloader=False,
    )


if __name__ == "__main__":
    main()
