"""Self-service forms and the archive: how long checking a form takes (the run-time pydantic
models, built once per item description and cached), and how long writing and verifying one
case's archive package takes, with and without a contributed 5 MB scan.

    .venv/bin/python bench/forms_archive.py [--forms 2000] [--cases 30] [--repeat 3]

SQLite in a temporary folder; medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from hall_ops import privacy, queue  # noqa: E402

os.environ.setdefault(privacy.ENV_KEY, privacy.new_key())
privacy.install(privacy.PersonalDataCipher.from_instance(ROOT / "instance"))

from hall_ops.archive import contributors  # noqa: E402
from hall_ops.archive.bag import verify  # noqa: E402
from hall_ops.archive.models import ArchivePackage  # noqa: E402
from hall_ops.archive.package import ArchiveSettings, archive_finished  # noqa: E402
from hall_ops.cases.catalogue import load_catalogue  # noqa: E402
from hall_ops.cases.intake import get_case, set_item_status  # noqa: E402
from hall_ops.config import load_config  # noqa: E402
from hall_ops.forms.spec import validate_form  # noqa: E402
from tests.conftest import make_hall_db  # noqa: E402
from tests.test_forms import form  # noqa: E402
from tests.test_intake import NOW, RULES, intake, serve  # noqa: E402


def forms_per_second(db, count: int) -> float:
    data = form()
    with db.read() as s:
        validate_form(s, data, NOW.date())  # builds and caches the models
        start = time.perf_counter()
        for _ in range(count):
            validate_form(s, data, NOW.date())
        return count / (time.perf_counter() - start)


def archive_run(db, hall_config, store: Path, cases: int, scan_bytes: int) -> tuple[float, float]:
    """Seconds per package written (the job) and per package verified."""
    numbers = []
    for _ in range(cases):
        number = intake(db, serve(db, hall_config, 8, "c08", "real_estate"))
        with db.write() as s:
            queue.finish(s, 8, "c08", NOW)
            for item in get_case(s, number).items:
                set_item_status(s, number, item.item_code, "rejected", "bench", "材料不符",
                                now=NOW)
        numbers.append(number)
    scan = os.urandom(scan_bytes)

    def scans(session, case):
        if scan_bytes:
            yield contributors.ArchivedFile(name="scan.pdf", open=lambda: io.BytesIO(scan))

    contributors.register("materials", scans)
    try:
        start = time.perf_counter()
        done = archive_finished(db, ArchiveSettings(store=store), RULES, NOW, limit=cases)
        written = (time.perf_counter() - start) / len(done)
    finally:
        contributors.unregister("materials", scans)
    with db.read() as s:
        paths = [store / p for p in s.scalars(select(ArchivePackage.path))]
    start = time.perf_counter()
    assert all(verify(p) == [] for p in paths)
    checked = (time.perf_counter() - start) / len(paths)
    return written, checked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--forms", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    hall_config = load_config(ROOT / "config.toml")
    rates, plain, scanned = [], [], []
    for _ in range(args.repeat):
        for scan_bytes, out in ((0, plain), (5 * 1024 * 1024, scanned)):
            with tempfile.TemporaryDirectory() as tmp:
                db = make_hall_db(f"sqlite:///{tmp}/hall.db", hall_config)
                with db.write() as s:
                    load_catalogue(s, ROOT / "data" / "catalogue")
                if scan_bytes == 0:
                    rates.append(forms_per_second(db, args.forms))
                out.append(archive_run(db, hall_config, Path(tmp) / "archive", args.cases,
                                       scan_bytes))
                db.dispose()
    print(f"forms checked per second (QY-01, 11 fields): {statistics.median(rates):.0f}")
    for label, runs in (("package without files", plain), ("package with a 5 MB scan", scanned)):
        write = statistics.median(r[0] for r in runs) * 1000
        check = statistics.median(r[1] for r in runs) * 1000
        print(f"{label}: written {write:.1f} ms, verified {check:.1f} ms (median of "
              f"{args.repeat} runs of {args.cases} cases)")


if __name__ == "__main__":
    main()
