"""The e-licence library and uploaded materials (issue 15).

A licence issued on approval and verified through its QR code (decoded from the served
SVG); a forged, a revoked and an expired licence refused; the algorithm swapped to
Ed25519; a bundle of another issuer imported; intake reusing a licence instead of paper,
with the use logged per department and shown to the holder; scans stored on the local
store and on an S3 server (moto's, started here), their checksums checked on read.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import io
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import zxingcpp
from sqlalchemy import select, text

from hall_ops.cases import handoff
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.intake import Applicant, get_case, record_supplement, set_item_status
from hall_ops.cases.models import Case, ConsoleCase
from hall_ops.cases.slip import routing_slip
from hall_ops.config import HallConfig
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.licences import library, signing
from hall_ops.licences.models import (
    Licence,
    LicenceEvent,
    LicenceUse,
    MaterialFile,
    SigningKey,
)
from hall_ops.licences.store import ChecksumMismatch, LocalStore, S3Store
from hall_ops.staff import log
from tests.conftest import OPEN_NOW, ROOT, StepClock
from tests.support.web import hall_app, raw_client, staff_client, window_client
from tests.test_intake import PERSON, RULES, intake, serve

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)

# First registration of a new flat (BDC-02) issues the owner's title certificate.
FIRST_ITEMS = ["BDC-02"]
FIRST_PAPER = ["不动产登记申请书", "土地权属来源材料", "房屋已竣工的材料", "房地产调查或测绘报告"]
FIRST_E = ["申请人身份证明", "建设工程符合规划的材料"]
# Selling it later (BDC-01) needs that certificate: the library holds it.
SALE_PAPER = ["不动产登记申请书", "不动产买卖合同"]
CERTIFICATE = "不动产权证书"
COMPANY = Applicant("organisation", "福州示例科技有限公司", "91350100m000100y43", "0591-87654321")


@dataclasses.dataclass(frozen=True)
class Issued:
    number: str
    fragment: str
    case: str


def issued_licence(db, hall_config: HallConfig, now: dt.datetime, *, window: int = 9,
                   clerk: str = "c09", applicant: Applicant = PERSON) -> Issued:
    """A first registration accepted at ``window`` and approved by bdc: its licence."""
    ticket = serve(db, hall_config, window, clerk, "real_estate", now)
    number = intake(db, ticket, window=window, clerk=clerk, applicant=applicant,
                    items=FIRST_ITEMS, received=FIRST_PAPER, e_licences=FIRST_E, now=now)
    with db.write() as s:
        set_item_status(s, number, "BDC-02", "in_review", "appr-bdc", now=now)
        set_item_status(s, number, "BDC-02", "approved", "appr-bdc", now=now)
        licence = s.scalars(
            select(Licence).join(Case, Case.id == Licence.case_id).where(Case.number == number)
        ).one()
        return Issued(licence.number, library.fragment(licence), number)


def decode_qr_svg(svg: str) -> str:
    """Rasterise the path of qrcode's SvgPathImage (one ``M x,y H.. V.. H.. z`` per dark
    module) and read it back with zxing-cpp, as a phone's camera would."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    modules = np.full((size, size), 255, dtype=np.uint8)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        modules[int(y), int(x)] = 0
    image = np.kron(modules, np.ones((8, 8), dtype=np.uint8))
    found = zxingcpp.read_barcode(image)
    assert found is not None, "the QR code does not decode"
    return found.text


@pytest.fixture
def hall(any_db):
    """The hall's database with the catalogue, on SQLite and on PostgreSQL."""
    with any_db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    return any_db


# ---------------------------------------------------------------- domain


def test_a_licence_is_issued_on_approval_signed_with_sm2_and_verified(hall, hall_config):
    issued = issued_licence(hall, hall_config, OPEN_NOW)
    assert issued.number == "DZZZ-BDC-20261125-000001"
    with hall.read() as s:
        licence = library.get_licence(s, issued.number)
        assert (licence.name_zh, licence.holder_kind, licence.holder_name) == (
            "不动产权证书", "person", "张三")
        assert licence.holder_id_number == "330106198507201239"
        assert (licence.department_code, licence.item_code, licence.algorithm) == (
            "bdc", "BDC-02", "sm2")
        assert licence.valid_to is None  # a title certificate is valid until revoked
        [event] = s.scalars(select(LicenceEvent)).all()
        assert (event.action, event.actor) == ("issued", "appr-bdc")
        answer = library.verify_licence(s, issued.number, issued.fragment, OPEN_NOW)
    assert answer["status"] == "valid"
    assert answer["holder"] == "张*" and "330106" not in str(answer)
    # The holder's ID number is stored encrypted, like the case's.
    with hall.engine.connect() as conn:
        stored = conn.execute(text("SELECT holder_id_number FROM licences")).scalar_one()
    assert stored.startswith("v1:") and "330106198507201239" not in stored
    # A second approval of the same item is impossible, so no second licence.
    with hall.write() as s, pytest.raises(Conflict):
        set_item_status(s, issued.case, "BDC-02", "approved", "appr-bdc", now=OPEN_NOW)


def test_forged_licences_are_refused(hall, hall_config):
    issued = issued_licence(hall, hall_config, OPEN_NOW)
    with hall.read() as s:
        verdict = [
            library.verify_licence(s, issued.number, None, OPEN_NOW)["status"],
            library.verify_licence(s, issued.number, "0" * 16, OPEN_NOW)["status"],
            library.verify_licence(s, "DZZZ-BDC-20261125-999999", issued.fragment,
                                   OPEN_NOW)["status"],
        ]
    assert verdict == ["forged"] * 3
    # Altering the row (holder, dates) breaks the department's signature: forged.
    with hall.engine.begin() as conn:
        conn.execute(text("UPDATE licences SET holder_name = '王五'"))
    with hall.read() as s:
        answer = library.verify_licence(s, issued.number, issued.fragment, OPEN_NOW)
    assert answer == {"number": issued.number, "checked_at": answer["checked_at"],
                      "status": "forged"}  # nothing else said about a forgery


def test_revoked_and_expired_licences_are_refused(hall, hall_config):
    issued = issued_licence(hall, hall_config, OPEN_NOW)
    with hall.write() as s:
        with pytest.raises(InvalidInput):
            library.revoke(s, issued.number, "appr-bdc", "  ", OPEN_NOW, department="bdc")
        with pytest.raises(NotFound):  # only the issuing department revokes
            library.revoke(s, issued.number, "appr-scj", "wrong", OPEN_NOW, department="scj")
        library.revoke(s, issued.number, "appr-bdc", "登记错误，已更正", OPEN_NOW,
                       department="bdc")
    with hall.write() as s, pytest.raises(Conflict):
        library.revoke(s, issued.number, "appr-bdc", "again", OPEN_NOW, department="bdc")
    with hall.read() as s:
        assert library.verify_licence(s, issued.number, issued.fragment,
                                      OPEN_NOW)["status"] == "revoked"
        assert library.holdings(s, "330106198507201239", OPEN_NOW) == []
        events = [(e.action, e.reason) for e in s.scalars(select(LicenceEvent))]
    assert events == [("issued", None), ("revoked", "登记错误，已更正")]
    # Expiry: an energy-saving review opinion is valid for two years.
    ticket = serve(hall, hall_config, 1, "c01", "investment")
    with hall.read() as s:
        needed = list(s.scalars(text(
            "SELECT name_zh FROM item_materials WHERE item_code = 'TZ-04'")))
    number = intake(hall, ticket, window=1, clerk="c01", items=["TZ-04"],
                    applicant=COMPANY,
                    received=needed, e_licences=[])
    with hall.write() as s:
        set_item_status(s, number, "TZ-04", "in_review", "appr-fgj", now=OPEN_NOW)
        set_item_status(s, number, "TZ-04", "approved", "appr-fgj", now=OPEN_NOW)
        opinion = s.scalars(select(Licence).where(Licence.licence_type == "energy_opinion")).one()
        assert (opinion.valid_from, opinion.valid_to) == (dt.date(2026, 11, 25),
                                                           dt.date(2028, 11, 24))
        number, fragment = opinion.number, library.fragment(opinion)
    with hall.read() as s:
        on_last_day = dt.datetime(2028, 11, 24, 15, 0)  # 23:00 in Shanghai
        assert library.verify_licence(s, number, fragment, on_last_day)["status"] == "valid"
        after = on_last_day + dt.timedelta(hours=2)
        assert library.verify_licence(s, number, fragment, after)["status"] == "expired"
        assert library.holdings(s, "91350100M000100Y43", after) == []


def test_the_algorithm_is_swappable_and_keys_stay_in_the_instance_folder(hall, hall_config,
                                                                        tmp_path):
    previous = library.current()
    library.install(library.Library(signing.Keyring(tmp_path / "keys", "ed25519"),
                                    previous.timezone))
    try:
        issued = issued_licence(hall, hall_config, OPEN_NOW)
        with hall.read() as s:
            licence = library.get_licence(s, issued.number)
            assert licence.algorithm == "ed25519"
            assert library.verify_licence(s, issued.number, issued.fragment,
                                          OPEN_NOW)["status"] == "valid"
        key_file = tmp_path / "keys" / "bdc.ed25519.key"
        assert key_file.stat().st_mode & 0o077 == 0
        private = key_file.read_text().strip()
        with hall.engine.connect() as conn:  # the database holds the public key only
            for table in ("licences", "licence_signing_keys"):
                for row in conn.execute(text(f"SELECT * FROM {table}")):
                    assert private not in " ".join(map(str, row))
        # Another key in the instance folder than the published one: refused, not re-signed.
        key_file.unlink()
        library.install(library.Library(signing.Keyring(tmp_path / "keys", "ed25519"),
                                        previous.timezone))
        with hall.write() as s, pytest.raises(Conflict) as mismatch:
            library.publish_key(s, "bdc", OPEN_NOW)
        assert mismatch.value.code == "signing_key_mismatch"
    finally:
        library.install(previous)


def test_sm2_signatures_check_out_and_fail_on_any_change():
    signer = signing.SM2Signer(signing.SM2Signer.new_private_key())
    data = "电子证照".encode()
    signature = signer.sign(data)
    assert signing.verify("sm2", signer.public_key, data, signature)
    assert not signing.verify("sm2", signer.public_key, data + b" ", signature)
    other = signing.SM2Signer(signing.SM2Signer.new_private_key())
    assert not signing.verify("sm2", other.public_key, data, signature)
    assert not signing.verify("sm2", signer.public_key, data, bytes(64))
    assert not signing.verify("ed25519", signer.public_key, data, signature)


def test_a_signed_bundle_of_another_issuer_is_imported(hall):
    issuer_key = signing.Ed25519Signer(signing.Ed25519Signer.new_private_key())
    previous = library.current()
    library.install(dataclasses.replace(previous, issuers={
        "prov-scj": library.TrustedIssuer("prov-scj", "ed25519", issuer_key.public_key)}))
    entry = {
        "number": "91350100MA00000001", "type": "business_licence", "name_zh": "营业执照",
        "name_en": "Business licence", "material_zh": "营业执照",
        "holder": {"kind": "organisation", "name": "福州示例科技有限公司",
                   "id_number": "91350100M000100Y43"},
        "department": {"code": "scj", "name_zh": "市场监督管理局"},
        "valid_from": "2020-05-01", "valid_to": None,
    }
    try:
        body, signature = library.make_bundle([entry], "prov-scj", issuer_key)
        with hall.write() as s:
            with pytest.raises(InvalidInput):  # one byte changed: the detached signature fails
                library.import_bundle(s, body.replace(b"2020", b"2021"), signature, "prov-scj",
                                      "admin", OPEN_NOW)
            with pytest.raises(Exception) as untrusted:
                library.import_bundle(s, body, signature, "nobody", "admin", OPEN_NOW)
            assert untrusted.value.code == "untrusted_issuer"
            [made] = library.import_bundle(s, body, signature, "prov-scj", "admin", OPEN_NOW)
            number, fragment = made.number, library.fragment(made)
        with hall.write() as s, pytest.raises(Conflict):
            library.import_bundle(s, body, signature, "prov-scj", "admin", OPEN_NOW)
        with hall.read() as s:
            answer = library.verify_licence(s, number, fragment, OPEN_NOW)
            assert (answer["status"], answer["origin"], answer["holder"]) == (
                "valid", "imported", "福州示例科技有限公司")
            offers = library.offers(s, "organisation", "91350100M000100Y43",
                                    {"营业执照": True}, OPEN_NOW)
            assert [o["number"] for o in offers] == [number]
        # Without the issuer's key configured the import no longer verifies.
        library.install(previous)
        with hall.read() as s:
            assert library.verify_licence(s, number, fragment, OPEN_NOW)["status"] == "forged"
    finally:
        library.install(previous)


# ---------------------------------------------------------------- the web: QR, verify, reuse


@pytest.fixture
def app(tmp_path, hall_config):
    clock = StepClock()
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    app.extensions["hall"].material_store = LocalStore(tmp_path / "materials")
    yield app
    app.extensions["hall"].db.dispose()


GAPS_CONFIRMED = {"confirm_gaps": True, "reason": "容缺受理，完税凭证后补"}


def approve_by_console(app, department: str, approver) -> None:
    hall = app.extensions["hall"]
    handoff.dispatch_due(hall.db, hall.approval_backends, hall.clock())
    with hall.db.read() as s:
        console = s.scalars(select(ConsoleCase.id).where(
            ConsoleCase.department == department, ConsoleCase.status == "submitted")).one()
    # the tax receipt is a gap (容缺) still outstanding: approved on a recorded reason
    for action, body in (("claim", {}), ("approve", GAPS_CONFIRMED)):
        r = approver.post(f"/api/v1/backoffice/cases/{console}/{action}", json=body)
        assert r.status_code == 200, r.json


def serving(app, window: int, clerk: str, service: str = "real_estate"):
    citizen = app.test_client()
    token = citizen.post("/api/v1/tickets", json={"service": service}).json["token"]
    c = window_client(app, window, clerk)
    assert c.post(f"/api/v1/windows/{window}/call-next").json["ticket"] is not None
    assert c.post(f"/api/v1/windows/{window}/start").status_code == 200
    return c, token


APPLICANT = {"kind": "person", "name": "张三", "id_number": "330106198507201239",
             "phone": "13800138000"}


def test_issued_on_approval_verified_by_its_qr_code_then_reused_at_intake(app):
    hall = app.extensions["hall"]
    approver = staff_client(app, "appr-bdc")
    # First visit: the first registration, on paper.
    clerk, first_token = serving(app, 9, "c09")
    r = clerk.post("/api/v1/windows/9/intake", json={
        "applicant": APPLICANT, "items": FIRST_ITEMS, "received": FIRST_PAPER,
        "e_licences": FIRST_E})
    assert r.status_code == 201, r.json
    first = r.json["case_number"]
    approve_by_console(app, "bdc", approver)
    [issued] = clerk.get(f"/api/v1/cases/{first}/licences").json["issued"]
    assert (issued["name_zh"], issued["status"], issued["item"]) == ("不动产权证书", "valid",
                                                                     "BDC-02")
    number = issued["number"]
    assert "signed" not in issued and issued["algorithm"] == "sm2"
    with hall.db.read() as s:  # the archive gets the signed text too, and checks it offline
        [whole] = library.licences_of_case(s, get_case(s, first).id)["issued"]
        key = s.get(SigningKey, ("bdc", "sm2")).public_key
    assert signing.verify("sm2", key, whole["signed"].encode(),
                          base64.b64decode(whole["signature"]))
    assert '"id_number":"330106198507201239"' in whole["signed"]

    # The QR code on the licence encodes its verify page; a phone opens it, no login.
    svg = clerk.get(f"/licences/{number}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    url = decode_qr_svg(svg.get_data(as_text=True))
    assert url == issued["verify_url"]
    target = urlsplit(url)
    assert target.path == f"/verify/{number}" and target.query == f"s={issued['fragment']}"
    phone = app.test_client()
    page = phone.get(f"{target.path}?{target.query}")
    assert page.status_code == 200 and 'data-status="valid"' in page.get_data(as_text=True)
    assert "有效：该证照真实且在有效期内" in page.get_data(as_text=True)  # Chinese first
    english = phone.get(f"{target.path}?{target.query}&lang=en").get_data(as_text=True)
    assert "Valid: this licence is genuine" in english
    assert "Real-estate title certificate" in english
    answer = phone.get(f"/api/v1/verify/{number}?{target.query}").json
    assert (answer["status"], answer["holder"]) == ("valid", "张*")
    assert "330106" not in page.get_data(as_text=True) + str(answer)
    assert phone.get(f"/api/v1/verify/{number}?s=0123456789abcdef").json["status"] == "forged"
    forged_page = phone.get(f"/verify/{number}").get_data(as_text=True)
    assert 'data-status="forged"' in forged_page and "张" not in forged_page
    keys = phone.get("/api/v1/licences/keys").json["keys"]
    assert {(k["department"], k["algorithm"]) for k in keys} >= {("bdc", "sm2")}
    printed = clerk.get(f"/licences/{number}").get_data(as_text=True)
    assert "张*" in printed and "<svg" in printed and "330106" not in printed
    assert 'id="revoke"' not in printed  # a clerk does not revoke
    assert 'id="revoke"' not in staff_client(app, "appr-scj").get(f"/licences/{number}").get_data(
        as_text=True)  # nor another department
    assert 'id="revoke"' in approver.get(f"/licences/{number}").get_data(as_text=True)

    # Second visit: selling the flat. The library offers the certificate instead of paper.
    seller, second_token = serving(app, 10, "c10")
    offers = seller.post("/api/v1/windows/10/licence-offers", json={
        "kind": "person", "id_number": APPLICANT["id_number"], "items": ["BDC-01"]}).json
    assert [(o["material"], o["number"]) for o in offers["offers"]] == [(CERTIFICATE, number)]
    assert seller.post("/api/v1/windows/10/licence-offers", json={
        "kind": "person", "id_number": "11010519491231002X", "items": ["BDC-01"]},
    ).json["offers"] == []  # someone else holds nothing
    sale = {"applicant": APPLICANT, "items": ["BDC-01"], "received": SALE_PAPER,
            "e_licences": ["申请人身份证明"],
            "licences": [{"material": CERTIFICATE, "number": number}]}
    refused = seller.post("/api/v1/windows/10/intake", json=sale)
    assert (refused.status_code, refused.json["error"]) == (422, "consent_required")
    stranger = {**sale, "applicant": {**APPLICANT, "name": "李四",
                                      "id_number": "11010519491231002X"},
                "licence_consent": True}
    refused = seller.post("/api/v1/windows/10/intake", json=stranger)
    assert (refused.status_code, refused.json["error"]) == (422, "licence_not_held")
    r = seller.post("/api/v1/windows/10/intake", json={**sale, "licence_consent": True})
    assert r.status_code == 201, r.json
    second = r.json["case_number"]
    view = seller.get(f"/api/v1/cases/{second}").json
    certificate = next(m for m in view["materials_received"] if m["name_zh"] == CERTIFICATE)
    assert (certificate["source"], certificate["licence"]) == ("e_licence", number)
    assert view["materials_handed_in"] == len(SALE_PAPER)  # the certificate was not paper
    slip = seller.get(f"/cases/{second}/slip").get_data(as_text=True)
    assert number in slip
    used = seller.get(f"/api/v1/cases/{second}/licences").json["used"]
    assert [(u["number"], u["material"], u["departments"]) for u in used] == [
        (number, CERTIFICATE, ["bdc"])]
    with hall.db.read() as s:
        [use] = s.scalars(select(LicenceUse)).all()
        assert (use.department_code, use.actor, use.purpose) == ("bdc", "c10", "intake")
    # The holder sees the use on their ticket page (by the ticket's token, no login).
    mine = phone.get(f"/api/v1/tickets/{second_token}").json["licences"]
    assert [lic["number"] for lic in mine["licences"]] == [number]
    assert [(u["licence"], u["department"]["code"], u["case_number"]) for u in mine["uses"]] == [
        (number, "bdc", second)]
    assert phone.get(f"/api/v1/tickets/{first_token}").json["licences"]["uses"] != []

    # Revoked by its department's approver (not another's): refused from then on.
    other = staff_client(app, "appr-scj")
    r = other.post(f"/api/v1/backoffice/bdc/licences/{number}/revoke", json={"reason": "x"})
    assert r.status_code == 403
    r = approver.post(f"/api/v1/backoffice/bdc/licences/{number}/revoke",
                      json={"reason": "产权已转移", "actor": "mallory"})
    assert r.status_code == 422  # the actor comes from the session, never the body
    r = approver.post(f"/api/v1/backoffice/bdc/licences/{number}/revoke",
                      json={"reason": "产权已转移"})
    assert (r.status_code, r.json["revoked_by"]) == (200, "appr-bdc")
    assert phone.get(f"{target.path}?{target.query}").get_data(as_text=True).count(
        'data-status="revoked"') == 1
    again, _ = serving(app, 8, "c08")
    assert again.post("/api/v1/windows/8/licence-offers", json={
        "kind": "person", "id_number": APPLICANT["id_number"], "items": ["BDC-01"],
    }).json["offers"] == []
    refused = again.post("/api/v1/windows/8/intake", json={**sale, "licence_consent": True})
    assert (refused.status_code, refused.json["error"]) == (422, "licence_not_held")


def test_an_admin_imports_a_bundle_signed_by_a_configured_issuer(tmp_path, hall_config):
    issuer_key = signing.SM2Signer(signing.SM2Signer.new_private_key())
    config = dataclasses.replace(hall_config, raw={**hall_config.raw, "licences": {
        "trusted_issuers": [{"name": "prov-bdc", "algorithm": "sm2",
                             "public_key": issuer_key.public_key}]}})
    app = hall_app(config, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    entry = {
        "number": "闽(2019)福州市不动产权第0012345号", "type": "property_certificate",
        "name_zh": "不动产权证书", "name_en": "Real-estate title certificate",
        "material_zh": CERTIFICATE,
        "holder": {"kind": "person", "name": "张三", "id_number": "330106198507201239"},
        "department": {"code": "bdc", "name_zh": "不动产登记中心"},
        "valid_from": "2019-03-01", "valid_to": None,
    }
    body, signature = library.make_bundle([entry], "prov-bdc", issuer_key)
    admin = staff_client(app, "admin")
    payload = {"issuer": "prov-bdc", "bundle": body.decode(),
               "signature": base64.b64encode(signature).decode()}
    tampered = {**payload, "bundle": body.decode().replace("张三", "张四")}
    assert admin.post("/api/v1/licences/import", json=tampered).json["error"] == "bad_signature"
    r = admin.post("/api/v1/licences/import", json=payload)
    assert (r.status_code, r.json["imported"]) == (201, [entry["number"]])
    assert admin.post("/api/v1/licences/import", json=payload).status_code == 409
    assert staff_client(app, "manager").post("/api/v1/licences/import",
                                             json=payload).status_code == 403
    published = app.test_client().get("/api/v1/licences/keys").json
    assert published["trusted_issuers"][0]["public_key"] == issuer_key.public_key
    app.extensions["hall"].db.dispose()


# ---------------------------------------------------------------- uploaded materials


def upload(clerk, case: str, data: bytes, content_type: str = "application/pdf",
           material: str = "不动产登记申请书", name: str = "scan.pdf"):
    return clerk.post(f"/api/v1/cases/{case}/files", content_type="multipart/form-data",
                      data={"material": material, "file": (io.BytesIO(data), name, content_type)})


def test_scans_are_stored_on_the_local_store_with_checksums(app, tmp_path):
    clerk, _ = serving(app, 9, "c09")
    case = clerk.post("/api/v1/windows/9/intake", json={
        "applicant": APPLICANT, "items": FIRST_ITEMS, "received": FIRST_PAPER,
        "e_licences": FIRST_E}).json["case_number"]
    r = upload(clerk, case, PDF)
    assert r.status_code == 201, r.json
    stored = r.json
    assert (stored["size"], stored["store"]) == (len(PDF), "local")
    assert stored["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert upload(clerk, case, PNG, "image/png", name="p.png").status_code == 201
    # Refused: a type not accepted, content not what its type says, empty, too large,
    # a material the case does not have, not multipart.
    assert upload(clerk, case, b"hello", "text/plain").json["error"] == "file_type_refused"
    assert upload(clerk, case, b"not a pdf", "application/pdf").json["error"] == \
        "file_type_refused"
    assert upload(clerk, case, b"").json["error"] == "empty_file"
    big = PDF + bytes(10 * 1024 * 1024)
    assert upload(clerk, case, big).status_code in (413, 422)
    assert upload(clerk, case, PDF, material="营业执照").status_code == 404
    assert clerk.post(f"/api/v1/cases/{case}/files", json={"material": "x"}).status_code == 422
    # The row holds key, checksum, size, type; the bytes are a file in the store.
    hall = app.extensions["hall"]
    with hall.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT key, sha256, size, content_type FROM material_files")
                            ).all()
        assert all(PDF not in str(row).encode() for row in rows)
    path = tmp_path / "materials" / rows[0][0]
    assert path.read_bytes() == PDF
    # Read back by the accepting clerk and the department's approver (logged), no one else.
    listed = clerk.get(f"/api/v1/cases/{case}/files").json["files"]
    assert [f["material"] for f in listed] == ["不动产登记申请书"] * 2
    approver = staff_client(app, "appr-bdc")
    got = approver.get(f"/api/v1/files/{stored['id']}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["X-Content-SHA256"] == stored["sha256"]
    with hall.db.read() as s:
        reads = [(e["actor"], e["subject"]) for e in log.recent_events(
            s, kinds=["personal_data_read"])]
    assert reads == [("appr-bdc", f"case:{case}")]  # the read of the scan is logged
    assert staff_client(app, "appr-scj").get(f"/api/v1/files/{stored['id']}").status_code == 403
    assert window_client(app, 4, "c04").get(f"/api/v1/cases/{case}/files").status_code == 403
    assert raw_client(app).get(f"/api/v1/files/{stored['id']}").status_code == 401
    # One byte changed in the store: refused on read, not served.
    path.write_bytes(PDF.replace(b"1.4", b"1.5"))
    r = approver.get(f"/api/v1/files/{stored['id']}")
    assert (r.status_code, r.json["error"]) == (409, "checksum_mismatch")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on this machine (ThreadedMotoServer), for the object store."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


S3_KEYS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


def test_the_s3_store_keeps_files_with_checksums(s3_server):
    store = S3Store("hall-materials", endpoint_url=s3_server, prefix="test", **S3_KEYS)
    store.client.create_bucket(Bucket="hall-materials")
    stored = store.put(PDF, "application/pdf")
    assert store.exists(stored.key) and not store.exists("2026/01/01/" + "0" * 32)
    assert store.get(stored.key, stored.sha256) == PDF
    head = store.client.head_object(Bucket="hall-materials", Key=f"test/{stored.key}")
    assert (head["ContentType"], head["Metadata"]["sha256"]) == ("application/pdf",
                                                                  stored.sha256)
    store.client.put_object(Bucket="hall-materials", Key=f"test/{stored.key}", Body=PDF + b" ")
    with pytest.raises(ChecksumMismatch):
        store.get(stored.key, stored.sha256)
    with pytest.raises(NotFound):
        store.get("2026/01/01/" + "0" * 32)


def test_an_installation_with_s3_configured_stores_uploads_there(s3_server, tmp_path,
                                                                  hall_config):
    config = dataclasses.replace(hall_config, raw={**hall_config.raw, "materials": {
        "max_bytes": 1024 * 1024,
        "s3": {"bucket": "hall-uploads", "endpoint_url": s3_server, **S3_KEYS}}})
    app = hall_app(config, clock=StepClock(), database_url=f"sqlite:///{tmp_path / 'h.db'}")
    store = app.extensions["hall"].material_store
    assert isinstance(store, S3Store)
    store.client.create_bucket(Bucket="hall-uploads")
    clerk, _ = serving(app, 9, "c09")
    case = clerk.post("/api/v1/windows/9/intake", json={
        "applicant": APPLICANT, "items": FIRST_ITEMS, "received": FIRST_PAPER,
        "e_licences": FIRST_E}).json["case_number"]
    r = upload(clerk, case, PDF)
    assert (r.status_code, r.json["store"]) == (201, "s3")
    with app.extensions["hall"].db.read() as s:
        key = s.scalars(select(MaterialFile.key)).one()
    objects = store.client.list_objects_v2(Bucket="hall-uploads")["Contents"]
    assert [o["Key"] for o in objects] == [key]  # the bytes are in the bucket, by the row's key
    assert store.client.get_object(Bucket="hall-uploads", Key=key)["Body"].read() == PDF
    assert clerk.get(f"/api/v1/files/{r.json['id']}").data == PDF
    assert upload(clerk, case, PDF + bytes(1024 * 1024)).status_code in (413, 422)
    with app.extensions["hall"].db.read() as s:
        assert s.scalars(select(MaterialFile.store)).all() == ["s3"]
    app.extensions["hall"].db.dispose()


def test_the_store_is_a_folder_in_the_instance_by_default(tmp_path, hall_config):
    app = hall_app(hall_config, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    store = app.extensions["hall"].material_store
    assert isinstance(store, LocalStore)
    assert store.folder == Path(app.instance_path) / "materials"
    app.extensions["hall"].db.dispose()



def item_materials(db, item: str) -> list[str]:
    with db.read() as s:
        return list(s.scalars(text("SELECT name_zh FROM item_materials WHERE item_code = :i "
                                   "ORDER BY position"), {"i": item}))


def test_a_gap_is_supplied_from_the_library_with_consent(hall, hall_config):
    # The energy-saving review opinion (TZ-04) is issued to the company …
    ticket = serve(hall, hall_config, 1, "c01", "investment")
    first = intake(hall, ticket, window=1, clerk="c01", items=["TZ-04"], applicant=COMPANY,
                   received=item_materials(hall, "TZ-04"), e_licences=[])
    with hall.write() as s:
        set_item_status(s, first, "TZ-04", "in_review", "appr-fgj", now=OPEN_NOW)
        set_item_status(s, first, "TZ-04", "approved", "appr-fgj", now=OPEN_NOW)
        opinion = s.scalars(select(Licence.number)).one()
    # … whose feasibility study (TZ-02) was accepted with the opinion as a gap (容缺).
    later = OPEN_NOW + dt.timedelta(hours=1)
    ticket = serve(hall, hall_config, 2, "c02", "investment", later)
    paper = [m for m in item_materials(hall, "TZ-02")
             if m not in ("节能审查意见", "建设项目用地预审与选址意见书")]
    second = intake(hall, ticket, window=2, clerk="c02", items=["TZ-02"], applicant=COMPANY,
                    received=paper, e_licences=[], now=later)
    with hall.write() as s:
        with pytest.raises(InvalidInput) as refused:
            record_supplement(s, second, "节能审查意见", later, licence=opinion, actor="c02")
        assert refused.value.code == "consent_required"
        with pytest.raises(InvalidInput) as refused:
            record_supplement(s, second, "节能审查意见", later, licence=opinion, consent=True)
        assert refused.value.code == "actor_required"
        with pytest.raises(InvalidInput) as refused:  # it stands for another material
            record_supplement(s, second, "建设项目用地预审与选址意见书", later, licence=opinion,
                              consent=True, actor="c02")
        assert refused.value.code == "licence_wrong_material"
    with hall.write() as s:
        row = record_supplement(s, second, "节能审查意见", later, licence=opinion,
                                consent=True, actor="c02")
        assert (row.source, row.received_at) == ("e_licence", later)
        case = get_case(s, second)
        assert case.materials_handed_in == len(paper)  # not paper
        [use] = s.scalars(select(LicenceUse)).all()
        assert (use.department_code, use.purpose, use.actor, use.case_id) == (
            "fgj", "supplement", "c02", case.id)
        slip = routing_slip(s, second, rules=RULES, now=later)
    [received] = [m for m in slip["materials_received"] if m["name_zh"] == "节能审查意见"]
    assert received["licence"] == opinion
