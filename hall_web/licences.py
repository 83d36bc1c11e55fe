"""The e-licence library and uploaded materials at the edge.

Public: the verify page and API (``/verify/<number>?s=<fragment>``, what a licence's QR
code opens) and the departments' published keys. Staff: a licence's printable page with
its QR code, the offers of the library at intake (the clerk at the window), revocation
(approvers of the issuing department), bundle import (admins), uploading and reading
scans of paper materials (clerks; approvers read).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from hall_ops.cases.catalogue import get_item
from hall_ops.cases.identity import validate_credit_code, validate_resident_id
from hall_ops.cases.intake import get_case
from hall_ops.cases.models import Case
from hall_ops.clock import iso_utc, to_local
from hall_ops.errors import Forbidden, InvalidInput, NotFound
from hall_ops.licences import library
from hall_ops.licences import store as materials
from hall_ops.licences.models import SigningKey
from hall_web.access import access, current_staff
from hall_web.api import answers, api
from hall_web.auth import record_unmasked_read
from hall_web.context import current_hall
from hall_web.request_helpers import actor, clerk_at, write
from hall_web.schemas.licences import (
    CaseFiles,
    CaseLicences,
    ImportBundle,
    Imported,
    OfferQuery,
    Offers,
    PublishedKeys,
    Revoke,
    Revoked,
    StoredFileView,
    Upload,
    Verification,
    VerifyQuery,
)

bp = Blueprint("licences", __name__)


def verify_url(number: str, fragment: str) -> str:
    """What the QR code encodes: the public verify page of this licence, with its fragment."""
    base = current_hall().config.sections.licences.public_url.rstrip("/")
    path = url_for("licences.verify_page", number=number, s=fragment)
    return f"{base}{path}" if base else url_for(
        "licences.verify_page", number=number, s=fragment, _external=True)


def qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg: str = image.to_string(encoding="unicode")
    return svg[svg.index("<svg"):]


# ---------------------------------------------------------------- public


def _verification(number: str, fragment: str | None) -> dict[str, Any]:
    hall = current_hall()
    with hall.db.read() as s:
        return library.verify_licence(s, number, fragment, hall.clock())


@bp.get("/verify/<number>")
@access("public")
def verify_page(number: str) -> str:
    """What a licence's QR code opens: valid, revoked, expired or forged; the holder masked."""
    hall = current_hall()
    checked = to_local(hall.clock(), hall.config.timezone)
    return render_template("verify.html", result=_verification(number, request.args.get("s")),
                           checked=f"{checked:%Y-%m-%d %H:%M}")


@bp.get("/api/v1/verify/<number>")
@access("public")
@api.validate(query=VerifyQuery, resp=answers(HTTP_200=Verification))
def verify_api(number: str, query: VerifyQuery) -> Any:
    """Check a licence: ``forged`` for an unknown number, a wrong fragment or a signature that
    does not verify with the published key; never more than the holder's masked name."""
    return jsonify(_verification(number, query.s))


@bp.get("/api/v1/licences/keys")
@access("public")
@api.validate(resp=answers(HTTP_200=PublishedKeys))
def published_keys() -> Any:
    """The departments' public keys (and the trusted issuers'): anyone may check a licence."""
    hall = current_hall()
    with hall.db.read() as s:
        rows = s.scalars(select(SigningKey).order_by(SigningKey.department_code)).all()
        keys = [{"department": k.department_code, "algorithm": k.algorithm,
                 "public_key": k.public_key,
                 "created_at": k.created_at.replace(tzinfo=dt.UTC).isoformat()} for k in rows]
    issuers = [{"name": i.name, "algorithm": i.algorithm, "public_key": i.public_key}
               for i in library.current().issuers.values()]
    return jsonify(keys=keys, trusted_issuers=issuers)


# ---------------------------------------------------------------- staff


@bp.get("/licences/<number>")
@access("clerk", also=("approver", "manager"))
def licence_page(number: str) -> str:
    """The licence as printed: its facts, the holder masked, the QR code of its verify page."""
    hall = current_hall()
    with hall.db.read() as s:
        try:
            licence = library.get_licence(s, number)
        except NotFound:
            abort(404)
        view = {
            **library.licence_summary(licence, library.current().today(hall.clock())),
            "holder": library.public_holder(licence),
            "item": licence.item_code,
            "algorithm": licence.algorithm,
            "revoke_reason": licence.revoke_reason,
        }
        url = verify_url(licence.number, library.fragment(licence))
    user = current_staff()
    may_revoke = (view["status"] != "revoked" and user is not None
                  and user.has_role("approver", department=view["department"]["code"]))
    return render_template("licence.html", licence=view, verify_url=url,
                           qr_svg=Markup(qr_svg(url)), may_revoke=may_revoke)


@bp.get("/licences/<number>/qr.svg")
@access("clerk", also=("approver", "manager"))
def licence_qr(number: str) -> Response:
    with current_hall().db.read() as s:
        try:
            licence = library.get_licence(s, number)
        except NotFound:
            abort(404)
        url = verify_url(licence.number, library.fragment(licence))
    return Response(qr_svg(url), mimetype="image/svg+xml")


@bp.post("/api/v1/windows/<int:number>/licence-offers")
@access("clerk_at_window")
@api.validate(resp=answers(HTTP_200=Offers, errors=(401, 404)))
def licence_offers(number: int, json: OfferQuery) -> Any:
    """What the library holds for this applicant that materials of these items accept."""
    hall = current_hall()
    clerk_at(number)
    with hall.db.read() as s:
        if json.kind == "person":
            id_number = validate_resident_id(json.id_number,
                                             today=library.current().today(hall.clock()))
        else:
            id_number = validate_credit_code(json.id_number)
        wanted: dict[str, bool] = {}
        for code in json.items:
            for m in get_item(s, code).materials:
                wanted[m.name_zh] = wanted.get(m.name_zh, True) and m.e_licence
        found = library.offers(s, json.kind, id_number, wanted, hall.clock())
    return jsonify(offers=found)


@bp.post("/api/v1/backoffice/<department>/licences/<number>/revoke")
@access("approver", department_arg="department")
@api.validate(resp=answers(HTTP_200=Revoked, errors=(401, 403, 404, 409)))
def revoke(department: str, number: str, json: Revoke) -> Any:
    """An approver of the issuing department revokes one of its licences; the reason and
    the approver (from the session) are audited."""
    now = current_hall().clock()
    with write() as s:
        licence = library.revoke(s, number, actor(), json.reason, now, department=department)
        answer = {"number": licence.number, "status": "revoked", "revoked_at": iso_utc(now),
                  "revoked_by": licence.revoked_by, "reason": licence.revoke_reason}
    return jsonify(answer)


@bp.post("/api/v1/licences/import")
@access("admin")
@api.validate(resp=answers(HTTP_201=Imported, errors=(401, 403, 409)))
def import_bundle(json: ImportBundle) -> Any:
    """A department's existing certificates, as a bundle signed by a trusted issuer."""
    try:
        signature = base64.b64decode(json.signature, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("signature: not base64", code="bad_signature") from None
    with write() as s:
        made = library.import_bundle(s, json.bundle.encode(), signature, json.issuer, actor(),
                                     current_hall().clock())
        numbers = [lic.number for lic in made]
    return jsonify(imported=numbers), 201


@bp.get("/api/v1/cases/<number>/licences")
@access("clerk", also=("approver",))
@api.validate(resp=answers(HTTP_200=CaseLicences, errors=(404,)))
def case_licences(number: str) -> Any:
    """Licences the case issued and those it used instead of paper."""
    with current_hall().db.read() as s:
        found = library.licences_of_case(s, get_case(s, number).id)
    for entry in found["issued"]:
        entry["verify_url"] = verify_url(entry["number"], entry["fragment"])
        del entry["signed"]  # the holder's whole ID number is in it: the archive's, not staff's
    return jsonify(found)


# ---------------------------------------------------------------- uploaded materials


def _store() -> materials.MaterialStore:
    store = current_hall().material_store
    if store is None:
        raise NotFound("no material store is configured", code="store_unavailable")
    return store


def _upload_limit(view: Any) -> Any:
    """Bodies of this view may be as large as ``[materials] max_bytes`` plus the form around
    the file (every other view keeps the API's 256 KiB); set before Spectree reads the form."""
    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        request.max_content_length = current_hall().config.sections.materials.max_bytes + 65536
        return view(*args, **kwargs)

    return limited


@bp.post("/api/v1/cases/<number>/files")
@access("clerk")
@_upload_limit
@api.validate(form=Upload, resp=answers(HTTP_201=StoredFileView, errors=(401, 404, 413)))
def upload_file(number: str, form: Upload) -> Any:
    """A scan or photo of a material of the case (``multipart/form-data``: ``material``,
    ``file``), checked (size, type, first bytes) and stored with its SHA-256."""
    if form is None:
        raise InvalidInput("send multipart/form-data with 'material' and 'file'",
                           code="missing_field", field="file")
    hall = current_hall()
    limits = hall.config.sections.materials
    upload = form.file
    if not isinstance(upload, FileStorage):
        raise InvalidInput("'file' must be a file", code="invalid_field", field="file")
    data = upload.read(limits.max_bytes + 1)
    content_type = (upload.mimetype or "").lower()
    materials.check_upload(data, content_type, max_bytes=limits.max_bytes,
                           types=tuple(limits.types))
    with write() as s:
        record = materials.add_file(s, _store(), number, form.material, data, content_type,
                                    upload.filename or "", actor(), hall.clock())
        view = materials.file_view(record, form.material)
    return jsonify(view), 201


def _may_read_files(s: Session, case_id: int) -> str:
    """Scans are personal data: the accepting clerk and the approvers of the case's
    departments read them (and each read is logged); returns the case number."""
    case = s.get(Case, case_id)
    user = current_staff()
    if case is None or user is None:
        raise NotFound("no such case", code="unknown_case")
    departments = {i.department_code for i in case.items}
    if not (user.login == case.clerk_id and user.has_role("clerk")
            or any(user.has_role("approver", department=d) for d in departments)):
        raise Forbidden("only the accepting clerk and the case's departments read its files",
                        code="forbidden")
    return case.number


@bp.get("/api/v1/cases/<number>/files")
@access("clerk", also=("approver",))
@api.validate(resp=answers(HTTP_200=CaseFiles, errors=(403, 404)))
def case_files(number: str) -> Any:
    with current_hall().db.read() as s:
        case_id = get_case(s, number).id
        _may_read_files(s, case_id)
        return jsonify(files=materials.materials_of_case(s, case_id))


@bp.get("/api/v1/files/<int:file_id>")
@access("clerk", also=("approver",))
@api.validate(resp=answers(HTTP_200=None, errors=(403, 404, 409)))
def read_file(file_id: int) -> Any:
    """The stored bytes, refused (409 ``checksum_mismatch``) if they no longer match; the
    read is logged like any unmasked read of the case's personal data."""
    with current_hall().db.read() as s:
        record = materials.get_file(s, file_id)
        case_number = _may_read_files(s, record.case_id)
        record, data = materials.read_file(s, _store(), file_id)
        content_type, sha256 = record.content_type, record.sha256
    record_unmasked_read(case_number, fields=("material_file",), purpose=f"file {file_id}")
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="file-{file_id}"'
    response.headers["X-Content-SHA256"] = sha256
    return response
