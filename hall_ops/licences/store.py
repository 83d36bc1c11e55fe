"""Uploaded materials: scans and photos of paper materials, stored as files, never in rows.

``MaterialStore`` is the interface the intake page and the archive use: ``put`` returns
the file's key, SHA-256 and size; ``get`` reads it back and checks the SHA-256 the caller
recorded, so a file altered or damaged in the store is refused, not served. Two stores:

- ``LocalStore``: a folder (default ``<instance>/materials``), files named by key,
  written aside and renamed into place.
- ``S3Store``: any S3-compatible object store (boto3), when ``[materials.s3]`` is set.

``material_files`` rows hold key, checksum, size, type; ``add_file`` and
``materials_of_case`` are the domain's side of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.cases.models import Case, CaseMaterial
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.licences.models import MaterialFile

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TYPES = ("application/pdf", "image/jpeg", "image/png")
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
"""The first bytes each accepted type must start with: the declared type alone is not trusted."""
_KEY = re.compile(r"[a-z0-9][a-z0-9/_-]{0,190}")


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int


class ChecksumMismatch(Conflict):
    code = "checksum_mismatch"


class MaterialStore(Protocol):
    name: str

    def put(self, data: bytes, content_type: str) -> StoredFile: ...

    def get(self, key: str, sha256: str | None = None) -> bytes: ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...


def new_key(now: dt.datetime | None = None) -> str:
    day = (now or dt.datetime.now(dt.UTC)).strftime("%Y/%m/%d")
    return f"{day}/{secrets.token_hex(16)}"


def _checked(key: str, data: bytes, sha256: str | None) -> bytes:
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise ChecksumMismatch(f"stored file {key} does not match its checksum")
    return data


class LocalStore:
    """Files in a folder (mode 0600), one per key."""

    name = "local"

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key) or ".." in key:
            raise NotFound(f"no stored file {key!r}", code="unknown_file")
        return self.folder / key

    def put(self, data: bytes, content_type: str) -> StoredFile:
        key = new_key()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = path.with_name(f".{path.name}.part")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        draft.rename(path)
        return StoredFile(key, hashlib.sha256(data).hexdigest(), len(data))

    def get(self, key: str, sha256: str | None = None) -> bytes:
        with self.open(key) as fh:
            return _checked(key, fh.read(), sha256)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise NotFound(f"no stored file {key!r}", code="unknown_file") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Store:
    """An S3-compatible bucket (AWS, MinIO, Ceph RGW, OSS/COS S3 endpoints); the SHA-256 goes
    along as object metadata and is checked again on read."""

    name = "s3"

    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None, prefix: str = "") -> None:
        import boto3  # only installations with an object store pay for importing it

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
        )

    def _object(self, key: str) -> str:
        if not _KEY.fullmatch(key) or ".." in key:
            raise NotFound(f"no stored file {key!r}", code="unknown_file")
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, data: bytes, content_type: str) -> StoredFile:
        key = new_key()
        digest = hashlib.sha256(data).hexdigest()
        self.client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data,
                               ContentType=content_type, Metadata={"sha256": digest})
        return StoredFile(key, digest, len(data))

    def get(self, key: str, sha256: str | None = None) -> bytes:
        with self.open(key) as body:
            return _checked(key, body.read(), sha256)

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound(f"no stored file {key!r}", code="unknown_file") from None
            raise
        body: BinaryIO = answer["Body"]
        return body

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return False
            raise
        return True


def store_from_config(section: Any, instance: str | Path) -> MaterialStore:
    """``[materials.s3]`` when configured, else ``<instance>/materials``."""
    s3 = section.s3
    if s3 is not None:
        return S3Store(s3.bucket, endpoint_url=s3.endpoint_url, region=s3.region,
                       access_key_id=s3.access_key_id, secret_access_key=s3.secret_access_key,
                       prefix=s3.prefix)
    return LocalStore(Path(instance) / "materials")


# ---------------------------------------------------------------- the domain's side


def check_upload(data: bytes, content_type: str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 types: tuple[str, ...] = DEFAULT_TYPES) -> None:
    """Refuse an empty or too large file, a type not accepted, or content that is not what
    its type says (first bytes)."""
    if not data:
        raise InvalidInput("the file is empty", code="empty_file")
    if len(data) > max_bytes:
        raise InvalidInput(f"the file is larger than {max_bytes // 1024} KiB",
                           code="file_too_large", max_bytes=max_bytes)
    if content_type not in types:
        raise InvalidInput(f"files of type {content_type!r} are not accepted "
                           f"({', '.join(types)})", code="file_type_refused")
    if not any(data.startswith(magic) for magic in SIGNATURES.get(content_type, (b"",))):
        raise InvalidInput(f"the file is not a {content_type} file", code="file_type_refused")


def add_file(session: Session, store: MaterialStore, case_number: str, material: str,
             data: bytes, content_type: str, filename: str, actor: str,
             now: dt.datetime) -> MaterialFile:
    """Store a scan of a material of a case and record it (key, checksum, size, type)."""
    row = session.execute(
        select(Case.id, CaseMaterial)
        .join(CaseMaterial, CaseMaterial.case_id == Case.id)
        .where(Case.number == case_number, CaseMaterial.name_zh == material)
    ).first()
    if row is None:
        raise NotFound(f"case {case_number} has no material {material!r}",
                       code="unknown_material")
    case_id, case_material = row
    stored = store.put(data, content_type)
    record = MaterialFile(
        case_id=case_id, case_material_id=case_material.id, store=store.name, key=stored.key,
        sha256=stored.sha256, size=stored.size, content_type=content_type,
        filename=(filename or "scan")[:200], uploaded_at=now, uploaded_by=actor,
    )
    session.add(record)
    session.flush()
    return record


def file_view(f: MaterialFile, material: str) -> dict[str, Any]:
    return {
        "id": f.id, "material": material, "filename": f.filename, "content_type": f.content_type,
        "size": f.size, "sha256": f.sha256, "store": f.store,
        "uploaded_at": f.uploaded_at.replace(tzinfo=dt.UTC).isoformat(),
        "uploaded_by": f.uploaded_by,
    }


def stored_files_of_case(session: Session, case_id: int) -> list[tuple[MaterialFile, str]]:
    """Every stored file of a case with its material's name, oldest first."""
    rows = session.execute(
        select(MaterialFile, CaseMaterial.name_zh)
        .join(CaseMaterial, CaseMaterial.id == MaterialFile.case_material_id)
        .where(MaterialFile.case_id == case_id)
        .order_by(MaterialFile.id)
    ).all()
    return [(f, name) for f, name in rows]


def materials_of_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Every stored file of a case with its material, oldest first, as the API shows it."""
    return [file_view(f, name) for f, name in stored_files_of_case(session, case_id)]


def get_file(session: Session, file_id: int) -> MaterialFile:
    record = session.get(MaterialFile, file_id)
    if record is None:
        raise NotFound(f"no file {file_id}", code="unknown_file")
    return record


def read_file(session: Session, store: MaterialStore, file_id: int) -> tuple[MaterialFile, bytes]:
    """A stored file and its bytes, refused (``checksum_mismatch``) if they changed."""
    record = get_file(session, file_id)
    if record.store != store.name:
        raise Conflict(f"file {file_id} is in the {record.store} store, not configured now",
                       code="store_unavailable")
    return record, store.get(record.key, record.sha256)
