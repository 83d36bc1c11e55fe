"""Archive contributors: what other parts of the hall add to a case's package.

The core writes what the case record holds (materials as recorded at intake — which came
on paper, which as an e-licence — the slip, the history). Files kept elsewhere (scans of
paper materials in the materials store, licences in the e-licence library) come from
contributors registered here, per section::

    from hall_ops.archive import contributors

    def scans_of_case(session, case):
        for scan in stored_scans(session, case.id):
            yield contributors.ArchivedFile(
                name=f"{scan.id}-{scan.filename}", open=lambda s=scan: store.open(s.key),
                media_type=scan.media_type, sha256=scan.sha256,
                record={"material": scan.material_name, "store": store.kind, "key": scan.key})

    contributors.register("materials", scans_of_case)

A file whose bytes do not match its declared ``sha256`` stops the package (and the job
tries again later): a damaged copy is never archived as if it were the original.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from hall_ops.cases.models import Case

SECTIONS = ("materials", "licences")


@dataclass(frozen=True)
class ArchivedFile:
    """One file for a package section. ``name``: the file's name in the section (one level,
    no slash); ``open``: returns its bytes as a binary stream (read once, in chunks);
    ``record``: its provenance, written to the section's index."""

    name: str
    open: Callable[[], BinaryIO]
    media_type: str = "application/octet-stream"
    sha256: str | None = None
    """The digest the contributor holds for it (checked while copying), if any."""
    record: Mapping[str, Any] = field(default_factory=dict)


Contributor = Callable[[Session, Case], Iterable[ArchivedFile]]

_registry: dict[str, list[Contributor]] = {section: [] for section in SECTIONS}


def register(section: str, contributor: Contributor) -> None:
    """Add ``contributor`` to ``section`` (``materials`` or ``licences``); once per function."""
    if section not in _registry:
        raise ValueError(f"section is one of {SECTIONS}")
    if contributor not in _registry[section]:
        _registry[section].append(contributor)


def unregister(section: str, contributor: Contributor) -> None:
    _registry[section].remove(contributor)


def materials_of_case(session: Session, case: Case) -> list[ArchivedFile]:
    """Files of the case's materials from every registered contributor (none on their own)."""
    return [f for c in _registry["materials"] for f in c(session, case)]


def licences_of_case(session: Session, case: Case) -> list[ArchivedFile]:
    """E-licences the case used or issued, from every registered contributor."""
    return [f for c in _registry["licences"] for f in c(session, case)]
