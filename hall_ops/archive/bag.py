"""The package on disk: a BagIt 1.0 bag (RFC 8493) with SHA-256 manifests, and its check.

BagIt is the packaging archives use to move records with their checksums; a package of
ours can be checked by any BagIt tool (``bagit.py --validate``) as well as by
``./hall archive verify``. Layout::

    SQ20261130-0001/
      bagit.txt                 version and encoding
      bag-info.txt              a few labels (who, when, size: Payload-Oxum)
      manifest-sha256.txt       "<sha256>  data/<path>" for every payload file
      tagmanifest-sha256.txt    the same for the three files above
      data/…                    the payload (``hall_ops.archive.package``)

A package is written into a hidden folder beside its place and renamed into it only
when complete, so a crash never leaves a half package under a case number.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 16
TAG_FILES = ("bagit.txt", "bag-info.txt", "manifest-sha256.txt")
MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"


class DigestMismatch(ValueError):
    """A contributed file's bytes do not match the digest its contributor holds."""


@dataclass
class BagWriter:
    """Collects the payload of one package in a staging folder, then places it."""

    final: Path
    staging: Path = field(init=False)
    digests: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.staging = self.final.parent / f".{self.final.name}.{secrets.token_hex(4)}"
        (self.staging / "data").mkdir(parents=True)

    def add(self, path: str, source: BinaryIO | bytes, expected: str | None = None) -> str:
        """Copy one payload file to ``data/<path>``, hashing as it goes; returns its digest."""
        if path in self.digests or path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"bad or repeated payload path {path!r}")
        target = self.staging / "data" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with target.open("wb") as out:
            chunks: Iterable[bytes] = (
                [source] if isinstance(source, bytes) else iter(lambda: source.read(CHUNK), b""))
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        hexdigest = digest.hexdigest()
        if expected is not None and expected.lower() != hexdigest:
            raise DigestMismatch(f"{path}: sha256 {hexdigest}, its source says {expected}")
        self.digests[path], self.sizes[path] = hexdigest, size
        return hexdigest

    def finish(self, info: dict[str, str]) -> str:
        """Write the tag files and move the bag into place; returns the manifest's digest."""
        root = self.staging
        (root / "bagit.txt").write_text(
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
        oxum = f"{sum(self.sizes.values())}.{len(self.sizes)}"
        lines = [f"{k}: {v}" for k, v in {**info, "Payload-Oxum": oxum}.items()]
        (root / "bag-info.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        manifest = "".join(f"{d}  data/{p}\n" for p, d in sorted(self.digests.items()))
        (root / MANIFEST).write_text(manifest, encoding="utf-8")
        tags = "".join(f"{_file_digest(root / name)}  {name}\n" for name in TAG_FILES)
        (root / TAG_MANIFEST).write_text(tags, encoding="utf-8")
        if self.final.exists():
            # Left by a run that died after placing it but before recording it.
            shutil.rmtree(self.final)
        os.replace(root, self.final)
        return hashlib.sha256(manifest.encode()).hexdigest()

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_digest(package: Path) -> str:
    return _file_digest(package / MANIFEST)


def _read_manifest(path: Path) -> tuple[dict[str, str], list[str]]:
    entries: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            problems.append(f"{path.name}:{number}: not '<sha256>  <path>'")
            continue
        entries[name] = digest.lower()
    return entries, problems


def verify(package: Path) -> list[str]:
    """Every problem of the package at ``package``, each naming its file; empty if intact.

    Checks the tag files against the tag manifest, every payload file against the payload
    manifest, and that the payload holds no file the manifest does not list.
    """
    package = Path(package)
    if not (package / "bagit.txt").is_file():
        return [f"{package}: not an archive package (no bagit.txt)"]
    problems: list[str] = []
    for manifest, root_files in ((TAG_MANIFEST, True), (MANIFEST, False)):
        path = package / manifest
        if not path.is_file():
            problems.append(f"{manifest}: missing")
            continue
        entries, bad = _read_manifest(path)
        problems += bad
        for name, digest in sorted(entries.items()):
            target = package / name
            if ".." in Path(name).parts or not target.is_file():
                problems.append(f"{name}: missing")
            elif _file_digest(target) != digest:
                problems.append(f"{name}: checksum does not match the manifest")
        if not root_files:
            listed = set(entries)
            for found in sorted((package / "data").rglob("*")):
                name = found.relative_to(package).as_posix()
                if found.is_file() and name not in listed:
                    problems.append(f"{name}: not in the manifest")
    return problems
