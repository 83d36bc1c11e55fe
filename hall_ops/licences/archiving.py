"""What the library and the material store add to a finished case's archive package.

The archive (hall_ops.archive) writes what the case record holds; the scans live in the
material store and the licences in the library, so they are handed in as contributors.
Licences are written without their signed text, which carries the holder's ID number:
the package names the licence, its signature and algorithm, and the library verifies it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from functools import partial
from typing import Any, BinaryIO
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from hall_ops.archive import contributors
from hall_ops.cases.models import Case
from hall_ops.db import Database
from hall_ops.licences import library
from hall_ops.licences.store import MaterialStore, file_view, stored_files_of_case

_stores: WeakKeyDictionary[Database, MaterialStore] = WeakKeyDictionary()
"""Each hall's material store by its database (a process may serve many halls); the
archive's sessions say their database in ``session.info``."""


def connect_archive(db: Database, store: MaterialStore) -> None:
    """Let the archive of the hall in ``db`` read that hall's material store."""
    _stores[db] = store
    contributors.register("materials", scans_of_case)
    contributors.register("licences", licences_of_case)


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name).strip("._") or "file"


def scans_of_case(session: Session, case: Case) -> Iterator[contributors.ArchivedFile]:
    store = _stores.get(session.info.get("database"))  # type: ignore[arg-type]
    if store is None:
        return
    for scan, material in stored_files_of_case(session, case.id):
        view = file_view(scan, material)
        yield contributors.ArchivedFile(
            name=f"{scan.id}-{_safe_name(scan.filename)}",
            open=partial(_read, store, scan.key, scan.sha256),
            media_type=scan.content_type, sha256=scan.sha256,
            record={"material": material, "store": scan.store,
                    "uploaded_at": view["uploaded_at"], "uploaded_by": scan.uploaded_by},
        )


def _read(store: MaterialStore, key: str, sha256: str) -> BinaryIO:
    return io.BytesIO(store.get(key, sha256))  # a changed scan is refused, not archived


def licences_of_case(session: Session, case: Case) -> Iterator[contributors.ArchivedFile]:
    held = library.licences_of_case(session, case.id)
    for use, entries in (("issued", held["issued"]), ("used", held["used"])):
        for entry in entries:
            record: dict[str, Any] = {k: v for k, v in entry.items() if k != "signed"}
            body = json.dumps({"use": use, **record}, ensure_ascii=False, indent=2).encode()
            yield contributors.ArchivedFile(
                name=f"{use}-{_safe_name(entry['number'])}.json",
                open=partial(io.BytesIO, body),
                media_type="application/json",
                record={"use": use, "number": entry["number"], "status": entry["status"]},
            )
