"""The e-licence library and uploaded materials: verify, offers, revocation, import, files."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from spectree.model_adapter.pydantic_adapter import BaseFile

from hall_web.fields import Code, Text
from hall_web.schemas.base import Answer, Moment, Query, Request

MAX_LIST = 100
Name = Annotated[Text, Field(max_length=200)]
LicenceNumber = Annotated[Text, Field(max_length=64)]


class Department(Answer):
    code: str
    name_zh: str


class VerifyQuery(Query):
    s: Annotated[Text, Field(max_length=64)] | None = None
    """The signature fragment the licence's QR code carries."""


class LicenceTypeName(Answer):
    code: str
    name_zh: str
    name_en: str


class Verification(Answer):
    """The public answer: never more than a masked holder."""

    number: str
    status: Literal["valid", "revoked", "expired", "forged"]
    checked_at: Moment
    type: LicenceTypeName | None = None
    holder: str | None = None
    department: Department | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    revoked_on: str | None = None
    algorithm: str | None = None
    origin: str | None = None


class PublishedKey(Answer):
    department: str
    algorithm: str
    public_key: str
    created_at: Moment


class PublishedKeys(Answer):
    keys: list[PublishedKey]
    trusted_issuers: list[dict[str, str]]


class OfferQuery(Request):
    kind: Literal["person", "organisation"]
    id_number: Annotated[Text, Field(max_length=32)]
    items: Annotated[list[Code], Field(max_length=MAX_LIST)]


class LicenceSummary(Answer):
    number: str
    type: str
    name_zh: str
    name_en: str
    department: Department
    valid_from: str
    valid_to: str | None
    status: Literal["valid", "revoked", "expired"]
    origin: str


class Offer(LicenceSummary):
    material: str


class Offers(Answer):
    offers: list[Offer]


class Revoke(Request):
    reason: Annotated[Text, Field(min_length=1, max_length=500)]


class Revoked(Answer):
    number: str
    status: str
    revoked_at: Moment
    revoked_by: str
    reason: str


class ImportBundle(Request):
    issuer: Annotated[Text, Field(max_length=64)]
    bundle: Annotated[str, Field(max_length=200_000)]
    """The bundle file's text, exactly as signed (UTF-8)."""
    signature: Annotated[str, Field(max_length=400, pattern=r"^[A-Za-z0-9+/=]+$")]
    """Base64 of the detached signature over the bundle's bytes."""


class Imported(Answer):
    imported: list[str]


class IssuedLicence(LicenceSummary):
    fragment: str
    item: str | None
    verify_url: str
    algorithm: str
    signature: str
    """Base64 of the signature, by the department's published key (the text it covers holds
    the holder's ID number, so the API does not repeat it)."""


class UsedLicence(LicenceSummary):
    material: str
    used_at: Moment
    departments: list[str]


class CaseLicences(Answer):
    issued: list[IssuedLicence]
    used: list[UsedLicence]


class HolderLicence(LicenceSummary):
    fragment: str
    verify_url: str


class LicenceUseView(Answer):
    licence: str
    department: Department
    case_number: str | None
    purpose: str
    at: Moment


class HolderLicences(Answer):
    """On the holder's ticket page: their licences and every use of them."""

    licences: list[HolderLicence]
    uses: list[LicenceUseView]


class Upload(Request):
    """``multipart/form-data``: the material's Chinese name and the scan (PDF, JPEG, PNG)."""

    material: Name
    file: BaseFile


class StoredFileView(Answer):
    id: int
    material: str
    filename: str
    content_type: str
    size: int
    sha256: str
    store: str
    uploaded_at: Moment
    uploaded_by: str


class CaseFiles(Answer):
    files: list[StoredFileView]

