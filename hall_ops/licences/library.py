"""The e-licence library (电子证照库): issue on approval, verify, revoke, import, reuse.

- **Issue**: when a case item whose catalogue entry issues a licence type
  (``licences.csv``) is approved, ``issue_on_approval`` makes the licence — holder the
  case's applicant, issuing department the item's — and signs it with that department's
  key, in the approval's own transaction.
- **Verify**: ``verify_licence`` answers ``valid``, ``revoked``, ``expired`` or ``forged``
  from a number and the signature fragment its QR carries, re-checking the signature
  against the published key; it reveals the holder masked at most.
- **Reuse**: at intake, ``offers`` lists the applicant's valid licences standing for
  materials of the chosen items; ``check_attachments`` and ``record_uses`` attach them
  instead of paper, with the holder's consent, and log one use per department.
- **Import**: ``import_bundle`` takes licences of another origin as a JSON bundle with a
  detached signature by a trusted issuer (``[[licences.trusted_issuers]]``).

Functions run inside the caller's write transaction.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.cases.catalogue import ItemLicence, LicenceType, ServiceItem
from hall_ops.cases.identity import mask_name
from hall_ops.cases.models import Case, CaseItem, CaseMaterial
from hall_ops.clock import hall_day, iso_utc
from hall_ops.errors import Conflict, Forbidden, InvalidInput, NotFound
from hall_ops.licences import signing
from hall_ops.licences.models import (
    HOLDER_ID_CONTEXT,
    Licence,
    LicenceEvent,
    LicenceUse,
    SigningKey,
)
from hall_ops.privacy import blind_index

FRAGMENT_LENGTH = 16
"""Hex digits of SHA-256(signature) the QR carries: who has the QR can check the licence;
who only guesses a number cannot."""
BUNDLE_FORMAT = "hall-ops.licence-bundle.v1"
MAX_BUNDLE_LICENCES = 10_000


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose signed bundles are imported (``[[licences.trusted_issuers]]``)."""

    name: str
    algorithm: str
    public_key: str


@dataclass
class Library:
    """What issuing and checking need beside a session: the keys, the hall's day, the
    issuers trusted for imports. Installed once per process (``install``)."""

    keyring: signing.Keyring
    timezone: ZoneInfo
    issuers: Mapping[str, TrustedIssuer] = field(default_factory=dict)

    def today(self, now: dt.datetime) -> dt.date:
        return hall_day(now, self.timezone)


_installed: Library | None = None


def install(library: Library) -> None:
    global _installed
    _installed = library


def current() -> Library:
    if _installed is None:
        raise RuntimeError("no licence library installed: call hall_ops.licences.library.install()")
    return _installed


# ---------------------------------------------------------------- signing


def signed_bytes(licence: Licence) -> bytes:
    """The canonical bytes a licence's signature covers: its fields as sorted, compact UTF-8
    JSON, the holder's whole ID number included (documented in docs/licences.md)."""
    return canonical({
        "format": "hall-ops.licence.v1",
        "number": licence.number,
        "type": licence.licence_type,
        "name_zh": licence.name_zh,
        "material_zh": licence.material_name_zh,
        "holder": {
            "kind": licence.holder_kind,
            "name": licence.holder_name,
            "id_number": licence.holder_id_number,
        },
        "department": {"code": licence.department_code, "name_zh": licence.department_name_zh},
        "valid_from": licence.valid_from.isoformat(),
        "valid_to": licence.valid_to.isoformat() if licence.valid_to else None,
        "item": licence.item_code,
        "issuer": licence.issuer,
    })


def canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def publish_key(session: Session, department: str, now: dt.datetime) -> SigningKey:
    """The department's published key, made (key pair in the instance folder) on first use."""
    signer = current().keyring.signer(department)
    row = session.get(SigningKey, (department, signer.algorithm))
    if row is None:
        row = SigningKey(department_code=department, algorithm=signer.algorithm,
                         public_key=signer.public_key, created_at=now)
        session.add(row)
    elif row.public_key != signer.public_key:
        raise Conflict(
            f"the key of department {department} in the instance folder is not the published "
            "one: restore the instance folder from its backup", code="signing_key_mismatch",
        )
    return row


def publish_department_keys(session: Session, now: dt.datetime) -> list[SigningKey]:
    """At start: every department whose items issue licences has its key pair made and its
    public key published, before its first licence."""
    departments = session.scalars(
        select(ServiceItem.department_code)
        .join(ItemLicence, ItemLicence.item_code == ServiceItem.code)
        .where(ServiceItem.active.is_(True))
        .distinct()
    ).all()
    return [publish_key(session, d, now) for d in sorted(departments)]


def fragment(licence: Licence) -> str:
    return hashlib.sha256(base64.b64decode(licence.signature)).hexdigest()[:FRAGMENT_LENGTH]


def signature_ok(session: Session, licence: Licence, issuers: Mapping[str, TrustedIssuer]) -> bool:
    """Checked against the published department key (issued here) or the configured issuer
    key (imported): a row whose fields were altered, or signed with any other key, fails."""
    try:
        signature = base64.b64decode(licence.signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    if licence.origin == "imported":
        issuer = issuers.get(licence.issuer)
        if issuer is None or issuer.algorithm != licence.algorithm:
            return False
        key = issuer.public_key
    else:
        published = session.get(SigningKey, (licence.department_code, licence.algorithm))
        if published is None:
            return False
        key = published.public_key
    return signing.verify(licence.algorithm, key, signed_bytes(licence), signature)


# ---------------------------------------------------------------- issuing


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def issue_on_approval(
    session: Session, item: CaseItem, actor: str, now: dt.datetime
) -> Licence | None:
    """The licence an approved item issues, signed by its department; None if the catalogue
    gives the item no licence type. Numbered after the case item, so it is issued once."""
    link = session.get(ItemLicence, item.item_code)
    if link is None:
        return None
    kind = session.get(LicenceType, link.licence_type)
    if kind is None:
        return None
    library = current()
    case = item.case
    today = library.today(now)
    licence = Licence(
        number=f"DZZZ-{item.department_code.upper()}-{today:%Y%m%d}-{item.id:06d}",
        licence_type=kind.code, name_zh=kind.name_zh, name_en=kind.name_en,
        material_name_zh=kind.material_name_zh,
        holder_kind=case.applicant_kind, holder_name=case.applicant_name,
        holder_id_number=case.applicant_id_number,
        department_code=item.department_code, department_name_zh=item.department_name_zh,
        valid_from=today,
        valid_to=_years_later(today, kind.valid_years) - dt.timedelta(days=1)
        if kind.valid_years else None,
        item_code=item.item_code, case_id=case.id, issued_at=now, origin="issued",
        issuer=item.department_code,
    )
    publish_key(session, item.department_code, now)
    signer = library.keyring.signer(item.department_code)
    licence.algorithm = signer.algorithm
    licence.signature = base64.b64encode(signer.sign(signed_bytes(licence))).decode()
    session.add(licence)
    session.flush()
    _event(session, licence, "issued", actor, now)
    return licence


def _event(session: Session, licence: Licence, action: str, actor: str, now: dt.datetime,
           reason: str | None = None) -> None:
    session.add(LicenceEvent(licence_id=licence.id, at=now, action=action, actor=actor,
                             reason=reason, origin=session.info.get("origin")))


# ---------------------------------------------------------------- status and verification


def status_of(licence: Licence, today: dt.date) -> str:
    """``revoked`` or ``expired`` or ``valid`` (the signature is checked apart)."""
    if licence.revoked_at is not None:
        return "revoked"
    if licence.valid_to is not None and today > licence.valid_to:
        return "expired"
    return "valid"


def get_licence(session: Session, number: str) -> Licence:
    licence = session.scalars(select(Licence).where(Licence.number == number)).first()
    if licence is None:
        raise NotFound(f"no licence {number}", code="unknown_licence")
    return licence


def verify_licence(session: Session, number: str, given_fragment: str | None,
                   now: dt.datetime) -> dict[str, Any]:
    """What the public verify page and API say: ``forged`` for an unknown number, a wrong
    fragment or a signature that does not check out; else revoked / expired / valid, with
    the licence's public facts and the holder masked (a person's name as 张*)."""
    library = current()
    licence = session.scalars(select(Licence).where(Licence.number == number)).first()
    answer: dict[str, Any] = {"number": number, "checked_at": iso_utc(now)}
    if (
        licence is None
        or not given_fragment
        or not hmac.compare_digest(fragment(licence).encode(), given_fragment.strip().encode())
        or not signature_ok(session, licence, library.issuers)
    ):
        return {**answer, "status": "forged"}
    return {
        **answer,
        "status": status_of(licence, library.today(now)),
        "type": {"code": licence.licence_type, "name_zh": licence.name_zh,
                 "name_en": licence.name_en},
        "holder": public_holder(licence),
        "department": {"code": licence.department_code, "name_zh": licence.department_name_zh},
        "valid_from": licence.valid_from.isoformat(),
        "valid_to": licence.valid_to.isoformat() if licence.valid_to else None,
        "revoked_on": library.today(licence.revoked_at).isoformat()
        if licence.revoked_at else None,
        "algorithm": licence.algorithm,
        "origin": licence.origin,
    }


def public_holder(licence: Licence) -> str:
    """A person masked (张*); an organisation's name is public registration data."""
    person = licence.holder_kind == "person"
    return mask_name(licence.holder_name) if person else licence.holder_name


def revoke(session: Session, number: str, actor: str, reason: str, now: dt.datetime,
           *, department: str) -> Licence:
    """Revoke with a reason (audited); only the issuing ``department`` revokes its licences
    (another department's number is unknown to it)."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise InvalidInput("a reason (at most 500 characters) is required to revoke",
                           code="reason_required")
    licence = session.scalars(
        select(Licence).where(Licence.number == number).with_for_update()
    ).first()
    if licence is None or licence.department_code != department:
        raise NotFound(f"department {department} issued no licence {number}",
                       code="unknown_licence")
    if licence.revoked_at is not None:
        raise Conflict(f"licence {number} is revoked already", code="already_revoked")
    licence.revoked_at, licence.revoked_by, licence.revoke_reason = now, actor, reason
    _event(session, licence, "revoked", actor, now, reason)
    session.flush()
    return licence


# ---------------------------------------------------------------- reuse at intake


def holdings(session: Session, id_number: str, now: dt.datetime) -> list[Licence]:
    """The holder's licences that are valid now and whose signature checks out."""
    library = current()
    today = library.today(now)
    rows = session.scalars(
        select(Licence)
        .where(Licence.holder_id_hash == blind_index(id_number, HOLDER_ID_CONTEXT))
        .order_by(Licence.id.desc())
    ).all()
    return [
        r for r in rows
        if status_of(r, today) == "valid" and signature_ok(session, r, library.issuers)
    ]


def offers(session: Session, kind: str, id_number: str, materials: Mapping[str, bool],
           now: dt.datetime) -> list[dict[str, Any]]:
    """For each material (name → an e-licence may replace it) the library holds for this
    holder, the newest valid licence standing for it: what the clerk is offered."""
    found: dict[str, Licence] = {}
    for licence in holdings(session, id_number, now):
        if licence.holder_kind == kind and materials.get(licence.material_name_zh):
            found.setdefault(licence.material_name_zh, licence)
    return [
        {"material": name, **licence_summary(licence, current().today(now))}
        for name, licence in found.items()
    ]


def licence_summary(licence: Licence, today: dt.date) -> dict[str, Any]:
    return {
        "number": licence.number,
        "type": licence.licence_type,
        "name_zh": licence.name_zh,
        "name_en": licence.name_en,
        "department": {"code": licence.department_code, "name_zh": licence.department_name_zh},
        "valid_from": licence.valid_from.isoformat(),
        "valid_to": licence.valid_to.isoformat() if licence.valid_to else None,
        "status": status_of(licence, today),
        "origin": licence.origin,
    }


def check_attachments(
    session: Session, kind: str, id_number: str, attachments: Mapping[str, str],
    allowed: Mapping[str, bool], consent: bool, now: dt.datetime,
) -> dict[str, Licence]:
    """Material name → licence for what the clerk attaches from the library, every check done
    before anything is written: the holder consented, the licence is the applicant's, valid,
    genuine, and stands for a material of these items that an e-licence may replace."""
    if not attachments:
        return {}
    if not consent:
        raise InvalidInput("the applicant's consent is needed to use their e-licences",
                           code="consent_required")
    held = {lic.number: lic for lic in holdings(session, id_number, now)}
    chosen: dict[str, Licence] = {}
    for material, number in attachments.items():
        licence = held.get(number)
        if licence is None or licence.holder_kind != kind:
            raise InvalidInput(
                f"licence {number} is not a valid licence of this applicant",
                code="licence_not_held", licence=number,
            )
        if material not in allowed or licence.material_name_zh != material:
            raise InvalidInput(f"licence {number} does not stand for {material!r}",
                               code="licence_wrong_material", licence=number)
        if not allowed[material]:
            raise InvalidInput(f"an e-licence cannot replace: {material}",
                               code="e_licence_not_accepted", materials=[material])
        chosen[material] = licence
    return chosen


def record_uses(
    session: Session, case: Case, attached: Mapping[str, Licence], actor: str,
    now: dt.datetime, purpose: str = "intake",
) -> list[LicenceUse]:
    """One use per licence and department whose items need that material (the holder sees
    each on their ticket page)."""
    uses: list[LicenceUse] = []
    for material in case.materials:
        licence = attached.get(material.name_zh)
        if licence is None:
            continue
        departments = {i.department_code: i.department_name_zh for i in material.items}
        for code, name in sorted(departments.items()):
            use = LicenceUse(
                licence_id=licence.id, case_id=case.id, case_material_id=material.id,
                department_code=code, department_name_zh=name, purpose=purpose, actor=actor,
                consent_at=now, at=now, origin=session.info.get("origin"),
            )
            session.add(use)
            uses.append(use)
    session.flush()
    return uses


def licences_of_case(session: Session, case_id: int) -> dict[str, list[dict[str, Any]]]:
    """For the archive and the case views: licences the case issued (with the signed text
    and its signature, to be checked offline against the published key), and those it
    used (material, departments, when)."""
    library = current()
    issued = session.scalars(
        select(Licence).where(Licence.case_id == case_id).order_by(Licence.id)
    ).all()
    uses = session.execute(
        select(LicenceUse, Licence, CaseMaterial.name_zh)
        .join(Licence, Licence.id == LicenceUse.licence_id)
        .join(CaseMaterial, CaseMaterial.id == LicenceUse.case_material_id)
        .where(LicenceUse.case_id == case_id)
        .order_by(LicenceUse.id)
    ).all()
    used: dict[tuple[str, str], dict[str, Any]] = {}
    for use, licence, material in uses:
        entry = used.setdefault((licence.number, material), {
            "material": material,
            **licence_summary(licence, library.today(use.at)),
            "used_at": iso_utc(use.at),
            "departments": [],
        })
        entry["departments"].append(use.department_code)
    return {
        "issued": [
            {**licence_summary(lic, library.today(lic.issued_at)), "fragment": fragment(lic),
             "item": lic.item_code, "algorithm": lic.algorithm, "signature": lic.signature,
             "signed": signed_bytes(lic).decode()}
            for lic in issued
        ],
        "used": list(used.values()),
    }


def licence_by_material(session: Session, case_id: int) -> dict[int, str]:
    """Case material id → number of the licence used in its place."""
    rows = session.execute(
        select(LicenceUse.case_material_id, Licence.number)
        .join(Licence, Licence.id == LicenceUse.licence_id)
        .where(LicenceUse.case_id == case_id)
    ).all()
    return {material_id: number for material_id, number in rows if material_id is not None}


def holder_view(session: Session, case: Case, now: dt.datetime) -> dict[str, Any]:
    """What the holder sees on their ticket page: the applicant's licences (those of this
    case first) and every use of any of them by a department."""
    library = current()
    today = library.today(now)
    rows = session.scalars(
        select(Licence)
        .where(Licence.holder_id_hash
               == blind_index(case.applicant_id_number, HOLDER_ID_CONTEXT))
        .order_by(Licence.id.desc())
    ).all()
    uses = session.execute(
        select(LicenceUse, Licence.number, Case.number)
        .join(Licence, Licence.id == LicenceUse.licence_id)
        .outerjoin(Case, Case.id == LicenceUse.case_id)
        .where(LicenceUse.licence_id.in_([r.id for r in rows]))
        .order_by(LicenceUse.id.desc())
    ).all() if rows else []
    return {
        "licences": [
            {**licence_summary(r, today), "fragment": fragment(r)} for r in rows
        ],
        "uses": [
            {
                "licence": number,
                "department": {"code": use.department_code, "name_zh": use.department_name_zh},
                "case_number": case_number,
                "purpose": use.purpose,
                "at": iso_utc(use.at),
            }
            for use, number, case_number in uses
        ],
    }


# ---------------------------------------------------------------- import


def make_bundle(entries: Sequence[Mapping[str, Any]], issuer: str,
                signer: signing.Signer) -> tuple[bytes, bytes]:
    """A bundle as another issuer makes one: each entry signed over its canonical bytes,
    and the whole file signed (detached). Returns (bundle bytes, detached signature)."""
    licences = []
    for entry in entries:
        draft = _licence_from_entry(entry, issuer, signer.algorithm, "")
        licences.append({**entry, "signature": base64.b64encode(
            signer.sign(signed_bytes(draft))).decode()})
    body = canonical({"format": BUNDLE_FORMAT, "issuer": issuer, "algorithm": signer.algorithm,
                      "licences": licences})
    return body, signer.sign(body)


ENTRY_KEYS = frozenset({
    "number", "type", "name_zh", "name_en", "material_zh", "holder", "department",
    "valid_from", "valid_to", "signature",
})


def _licence_from_entry(entry: Mapping[str, Any], issuer: str, algorithm: str,
                        signature: str) -> Licence:
    try:
        holder, department = entry["holder"], entry["department"]
        return Licence(
            number=str(entry["number"]), licence_type=str(entry["type"]),
            name_zh=str(entry["name_zh"]), name_en=str(entry["name_en"]),
            material_name_zh=str(entry["material_zh"]),
            holder_kind=str(holder["kind"]), holder_name=str(holder["name"]),
            holder_id_number=str(holder["id_number"]).strip().upper(),
            department_code=str(department["code"]), department_name_zh=str(department["name_zh"]),
            valid_from=dt.date.fromisoformat(entry["valid_from"]),
            valid_to=dt.date.fromisoformat(entry["valid_to"]) if entry.get("valid_to") else None,
            item_code=None, origin="imported", issuer=issuer, algorithm=algorithm,
            signature=signature,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"bad licence entry {entry.get('number')!r}: {exc}",
                           code="bad_bundle") from None


def import_bundle(session: Session, body: bytes, signature: bytes, issuer_name: str,
                  actor: str, now: dt.datetime) -> list[Licence]:
    """Import a signed bundle of licences from a trusted issuer, all or nothing.

    The detached signature must verify over the exact bytes with the issuer's configured
    key, and so must each entry's own signature (kept, so each licence verifies alone
    later). A number already in the library refuses the bundle."""
    issuer = current().issuers.get(issuer_name)
    if issuer is None:
        raise Forbidden(f"{issuer_name!r} is not a trusted issuer", code="untrusted_issuer")
    if not signing.verify(issuer.algorithm, issuer.public_key, body, signature):
        raise InvalidInput("the bundle's signature does not verify with the issuer's key",
                           code="bad_signature")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("the bundle is not JSON", code="bad_bundle") from None
    if (
        not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT
        or data.get("issuer") != issuer.name or data.get("algorithm") != issuer.algorithm
        or not isinstance(data.get("licences"), list)
        or len(data["licences"]) > MAX_BUNDLE_LICENCES
    ):
        raise InvalidInput(f"not a {BUNDLE_FORMAT} bundle of issuer {issuer.name}",
                           code="bad_bundle")
    made: list[Licence] = []
    for entry in data["licences"]:
        if not isinstance(entry, dict) or set(entry) - ENTRY_KEYS:
            raise InvalidInput("a licence entry has unknown fields", code="bad_bundle")
        licence = _licence_from_entry(entry, issuer.name, issuer.algorithm,
                                      str(entry.get("signature", "")))
        licence.issued_at = now
        if licence.holder_kind not in ("person", "organisation"):
            raise InvalidInput(f"bad holder kind in {licence.number}", code="bad_bundle")
        if not signature_ok(session, licence, {issuer.name: issuer}):
            raise InvalidInput(f"licence {licence.number}: its signature does not verify",
                               code="bad_signature")
        made.append(licence)
    numbers = [lic.number for lic in made]
    taken = session.scalars(select(Licence.number).where(Licence.number.in_(numbers))).all()
    if taken or len(set(numbers)) != len(numbers):
        raise Conflict(f"already in the library: {', '.join(sorted(taken)) or 'a duplicate'}",
                       code="licence_exists")
    session.add_all(made)
    session.flush()
    for licence in made:
        _event(session, licence, "imported", actor, now, f"bundle of {issuer.name}")
    session.flush()
    return made
