"""``python -m hall_web serve | backup | restore``.

Also ``archive verify PATH`` and ``archive export --from DATE --to DATE OUT`` (the
electronic archive, ``hall_ops.archive``), ``init --dir FOLDER`` (a new installation's
config and instance folder),
``create-admin``, ``db upgrade|current`` (the schema by hand), ``backup --to FILE``
and ``restore --from FILE``, ``audit verify|roots`` (the tamper-evident record,
``docs/audit.md``). ``serve`` runs one hall process on gunicorn
(``hall_web.server``). The async mode is read before anything else is imported:
eventlet must patch the standard library first, and gevent is patched by
gunicorn's worker before the app is built there.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
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
    serve.add_argument("--deployment", metavar="FILE",
                       help="serve every hall of a deployment (deployment.toml) instead of "
                            "one hall's --config")
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
    admin.add_argument("--deployment", type=Path, metavar="FILE",
                       help="with --hall: the first admin of that hall of a deployment")
    admin.add_argument("--hall", metavar="CODE", help="the hall's code in --deployment")
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
    audit = sub.add_parser("audit", help="the tamper-evident record (docs/audit.md)")
    audit.add_argument("action", choices=["verify", "roots"],
                       help="verify: check every chain and the daily roots (exit 1 on a "
                            "finding); roots: print the daily roots as JSON")
    audit.add_argument("--config", default="config.toml")
    audit.add_argument("--database-url")
    audit.add_argument("--roots", dest="roots_file", type=Path, metavar="FILE",
                       help="verify: also compare with roots exported earlier (JSON)")
    for name, flag, words in (("backup", "--to", "copy the database to FILE while the hall runs"),
                              ("restore", "--from", "replace the database with FILE's copy "
                                                    "(stop the hall first)")):
        command = sub.add_parser(name, help=words)
        command.add_argument(flag, dest="file", required=True, metavar="FILE")
        command.add_argument("--config", default="config.toml")
        command.add_argument("--database-url")
    archive = sub.add_parser("archive", help="the electronic archive: verify a package, "
                                             "export a date range for the archive office")
    archive_sub = archive.add_subparsers(dest="action", required=True)
    check = archive_sub.add_parser("verify", help="check a package's checksums (exit 1 if not)")
    check.add_argument("path", type=Path, help="the package folder, e.g. "
                                               "instance/archive/2026/SQ20261130-0001")
    export = archive_sub.add_parser("export", help="copy the packages of cases finished in a "
                                                   "date range into OUT, with a handover list")
    export.add_argument("--from", dest="first", required=True, type=_day, help="YYYY-MM-DD")
    export.add_argument("--to", dest="last", required=True, type=_day, help="YYYY-MM-DD")
    export.add_argument("out", type=Path, help="a new or empty folder")
    export.add_argument("--config", default="config.toml")
    export.add_argument("--database-url")
    return parser.parse_args(argv)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _archive(args: argparse.Namespace) -> int:
    """``archive verify`` prints each damaged file and exits 1; ``archive export`` refuses a
    range holding a damaged package (exit 1, naming it)."""
    from hall_ops.archive.bag import verify

    if args.action == "verify":
        problems = verify(args.path)
        for problem in problems:
            print(f"hall-ops archive: {args.path}: {problem}", file=sys.stderr)
        if not problems:
            print(f"hall-ops archive: {args.path}: intact")
        return 1 if problems else 0
    from hall_ops.archive.export import ExportError, export_packages
    from hall_ops.archive.package import settings_from_config
    from hall_ops.config import load_config
    from hall_ops.db import Database

    hall = load_config(args.config)
    db = Database(args.database_url or hall.database_url)
    try:
        numbers = export_packages(db, settings_from_config(hall).store, args.out, args.first,
                                  args.last)
    except ExportError as exc:
        print(f"hall-ops archive export: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"hall-ops archive: {len(numbers)} package(s) of {args.first}…{args.last} "
          f"in {args.out} (handover.csv)")
    return 0


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
    from hall_ops.config import ConfigError
    from hall_ops.schema import SchemaError

    try:
        if args.command == "init":
            _init(args)
        elif args.command == "create-admin":
            from hall_web.commands import create_admin

            sys.exit(create_admin(args.config, args.login, args.name,
                                  database_url=args.database_url,
                                  password_stdin=args.password_stdin,
                                  deployment=args.deployment, hall_code=args.hall))
        elif args.command == "db":
            _db(args)
        elif args.command == "audit":
            from hall_web.commands import audit

            sys.exit(audit(args.action, args.config, database_url=args.database_url,
                           roots_file=args.roots_file))
        elif args.command in ("backup", "restore"):
            _backup_or_restore(args)
        elif args.command == "archive":
            sys.exit(_archive(args))
        else:
            _serve(args)
    except (ConfigError, SchemaError, FileExistsError) as exc:
        raise SystemExit(f"hall-ops: cannot {args.command}: {exc}") from exc


def _serve(args: argparse.Namespace) -> None:
    if args.deployment:
        _serve_deployment(args)
        return
    config_path = Path(args.config)
    if not args.demo:
        from hall_ops.config import load_config
        from hall_ops.install import refuse_demo

        refuse_demo(load_config(config_path))
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
        if args.demo:
            from hall_web.commands import demo_logins

            print(demo_logins(app, base), flush=True)
        else:
            from hall_ops.install import refuse_demo

            refuse_demo(hall, app.extensions["hall"].db)  # the demo's staff in this database
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
        ("approver 后台审批", "/backoffice"),
        ("admin   人员与设备", "/admin/staff"),
    ):
        print(f"  {label}: {base}{path}", flush=True)
    if args.demo:
        print("  demo: opening hours ignored; logins and device links follow", flush=True)
    server.run(load, async_mode=async_mode, host=host, port=port, options=hall.server)


def _serve_deployment(args: argparse.Namespace) -> None:
    """``serve --deployment FILE``: the root app and every hall in one process (one gunicorn
    worker, as for one hall); the process runs every hall's jobs when it leads."""
    path = Path(args.deployment)
    try:  # the async mode before anything else is imported (eventlet patches first)
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        async_mode = args.async_mode or raw.get("server", {}).get("async_mode", "threading")
    except (OSError, tomllib.TOMLDecodeError):
        async_mode = args.async_mode or "threading"  # read_deployment says what is wrong
    if async_mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()

    from hall_ops.config import ServerOptions, load_config
    from hall_ops.install import refuse_demo
    from hall_ops.region.deployment import Deployment, read_deployment

    file = read_deployment(path)
    if file.deployment.demo and not args.demo:
        raise SystemExit(f"hall-ops: {path} is the demo deployment ([deployment] demo = true): "
                         "refusing to serve it without --demo")

    if not args.demo:  # the files here; each hall's database once it is open, in load()
        for entry in file.halls:
            if entry.config:
                refuse_demo(load_config(path.parent / entry.config))
    from hall_web import server
    from hall_web.logs import configure_logging

    deployment = Deployment(path, database_url=args.database_url,
                            message_queue=args.message_queue)
    served = file.server
    configure_logging(served.log_format)
    host, port = args.host or served.host, args.port or served.port
    base = f"http://{host}:{port}"
    simulators = contextlib.ExitStack()

    def load() -> Flask:
        """Build the apps where they are served (gunicorn's worker, after gevent patched)."""
        from hall_web.deployment import create_deployment, hall_prefix
        from hall_web.jobs import start_deployment_jobs

        root = create_deployment(deployment, async_mode=async_mode, always_open=args.demo)
        for code, app in root.extensions["halls"].items():
            hall = deployment.config(code)
            if args.demo:
                from hall_web.commands import demo_logins

                print(f"hall-ops: {hall.name_zh} — {base}{hall_prefix(code)}/", flush=True)
                print(demo_logins(app, base + hall_prefix(code)), flush=True)
            else:
                refuse_demo(hall, app.extensions["hall"].db)
            if args.demo and not args.no_jobs:
                _start_camera_simulators(hall, simulators)
        if not args.no_jobs:
            start_deployment_jobs(root)
        return root

    print(f"hall-ops: {file.deployment.name_zh} ({async_mode}, {deployment.dialect}, "
          f"{len(file.halls)} nodes): {base}/", flush=True)
    if args.demo:
        print("  demo: opening hours ignored; each hall's logins and device links follow",
              flush=True)
    server.run(load, async_mode=async_mode, host=host, port=port, options=ServerOptions(
        connections=served.connections, graceful_timeout=served.graceful_timeout,
        trusted_proxies=served.trusted_proxies, log_format=served.log_format))


if __name__ == "__main__":
    main()
