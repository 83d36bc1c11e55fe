"""Tables of the e-licence library (电子证照库) and of uploaded material files.

A licence is issued when a case item whose catalogue entry issues a licence type is
approved, or imported from a signed bundle of another issuer. The holder's ID number is
stored encrypted and found through its keyed hash (``hall_ops.privacy``). Every use of a
licence by a department and every issue, import and revocation is an append-only row.

Uploaded scans of paper materials are files in a ``MaterialStore``; ``material_files``
rows hold only their key, checksum, size and type.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from hall_ops.cases.catalogue import ItemLicence, LicenceType
from hall_ops.cases.models import Case, CaseMaterial
from hall_ops.db import Base, make_append_only
from hall_ops.privacy import EncryptedString, blind_index

__all__ = [
    "Case", "CaseMaterial", "ItemLicence", "Licence", "LicenceEvent", "LicenceType", "LicenceUse",
    "MaterialFile", "SigningKey",
]

HOLDER_ID_CONTEXT = "licences.holder_id_number"


class SigningKey(Base):
    """A department's published public key (the private key stays in the instance folder)."""

    __tablename__ = "licence_signing_keys"

    department_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Licence(Base):
    """One e-licence. ``signature`` covers ``hall_ops.licences.library.signed_bytes`` of the
    row, holder's ID number included, by the issuing department's key (``origin`` =
    ``issued``) or by a trusted issuer's key named in ``issuer`` (``imported``)."""

    __tablename__ = "licences"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    licence_type: Mapped[str] = mapped_column(String(32), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    material_name_zh: Mapped[str] = mapped_column(String(128))
    holder_kind: Mapped[str] = mapped_column(String(16))
    holder_name: Mapped[str] = mapped_column(String(128))
    holder_id_number: Mapped[str] = mapped_column(EncryptedString(HOLDER_ID_CONTEXT))
    holder_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    department_code: Mapped[str] = mapped_column(String(32), index=True)
    department_name_zh: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    item_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    origin: Mapped[str] = mapped_column(String(16))
    """``issued`` here, or ``imported`` from a signed bundle."""
    issuer: Mapped[str] = mapped_column(String(64))
    """The department code (issued) or the trusted issuer's name (imported)."""
    algorithm: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)
    """Base64 of the signature."""
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)

    @validates("holder_id_number")
    def _index_holder(self, _key: str, value: str) -> str:
        self.holder_id_hash = blind_index(value, HOLDER_ID_CONTEXT)
        return value


class LicenceEvent(Base):
    """Append-only: a licence issued, imported or revoked, by whom and why."""

    __tablename__ = "licence_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)


class LicenceUse(Base):
    """Append-only: a department used a licence in place of paper, with the holder's consent.
    Shown to the holder on the ticket page."""

    __tablename__ = "licence_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    case_material_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_materials.id"), nullable=True
    )
    department_code: Mapped[str] = mapped_column(String(32))
    department_name_zh: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    """``intake`` (instead of paper) or ``supplement``."""
    actor: Mapped[str] = mapped_column(String(64))
    consent_at: Mapped[dt.datetime] = mapped_column(DateTime)
    """When the holder agreed at the window (the clerk ticked it with them)."""
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    origin: Mapped[str | None] = mapped_column(String(120), nullable=True)


class MaterialFile(Base):
    """A scan or photo of a paper material, stored in the material store under ``key``."""

    __tablename__ = "material_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    case_material_id: Mapped[int] = mapped_column(ForeignKey("case_materials.id"), index=True)
    store: Mapped[str] = mapped_column(String(16))
    """``local`` or ``s3``: where ``key`` is."""
    key: Mapped[str] = mapped_column(String(200), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    uploaded_by: Mapped[str] = mapped_column(String(64))


make_append_only(LicenceEvent.__table__)  # type: ignore[arg-type]
make_append_only(LicenceUse.__table__)  # type: ignore[arg-type]
