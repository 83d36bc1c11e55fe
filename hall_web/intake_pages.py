"""Pages of one-window intake: the intake form, the routing slip, the back-office console,
the hand-off outbox.

Server-rendered shells like ``hall_web.pages``; the live parts are scripts
in ``static/js`` talking to ``/api/v1`` (``hall_web.intake_api``). The words
of these pages live here (``MESSAGES``, ``ERRORS_ZH``) and are laid over the
hall's own catalogue for these pages only, so ``hall_web.i18n`` stays the
queue's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, render_template, request, session
from markupsafe import Markup
from sqlalchemy import select

from hall_ops.catalogue import ServiceItem
from hall_ops.clock import hall_day, to_local
from hall_ops.errors import NotFound
from hall_ops.intake import IntakeRules, routing_slip
from hall_ops.models import Clerk, Service, Window
from hall_web.context import current_hall
from hall_web.i18n import LANGUAGES, catalogue, current_language, translate

bp = Blueprint("intake_pages", __name__)

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "intake": ("一窗受理", "One-window intake"),
    "serving_ticket": ("正在办理", "Serving"),
    "log_in_first": ("请先在窗口工作台登录 {n} 号窗口，并叫号、开始办理。",
                     "Log in at window {n} in the clerk console, then call and start a ticket."),
    "open_console": ("打开窗口工作台", "Open the clerk console"),
    "no_ticket": ("本窗口当前没有正在办理的号码：请在窗口工作台叫号并开始办理。",
                  "No ticket is being served at this window: call and start one in the clerk console."),
    "choose_items": ("选择办理事项", "Choose the items"),
    "materials_checklist": ("材料清单", "Materials checklist"),
    "no_items_chosen": ("请先选择事项", "Choose at least one item"),
    "shared_count": ("{n} 项共用材料只需提交一次", "{n} shared material(s), handed in once"),
    "material": ("材料", "Material"),
    "key_material": ("关键材料", "key material"),
    "copies": ("份数", "Copies"),
    "used_by": ("所需事项", "Needed for"),
    "paper": ("纸质件", "Paper"),
    "received_paper": ("已收", "received"),
    "e_licence": ("电子证照", "E-licence"),
    "use_e_licence": ("调取电子证照", "fetch e-licence"),
    "working_days": ("{n} 个工作日", "{n} working days"),
    "on_the_spot": ("即办", "on the spot"),
    "refusal_title": ("缺少关键材料，不能受理：", "Key materials missing, cannot accept:"),
    "gaps_title": ("容缺受理：以下非关键材料可以后补", "Accept with gaps: these non-key materials may follow"),
    "due_by": ("请于 {d} 前补齐", "to be supplied by {d}"),
    "applicant": ("申请人", "Applicant"),
    "kind_person": ("个人", "person"),
    "kind_organisation": ("单位", "organisation"),
    "person_name": ("姓名", "Name"),
    "org_name": ("单位名称", "Organisation name"),
    "id_number_person": ("身份证号码", "Resident ID number"),
    "id_number_org": ("统一社会信用代码", "Unified social credit code"),
    "phone": ("联系电话", "Phone"),
    "check_name": ("请填写申请人姓名或单位名称", "Enter the applicant's name"),
    "check_resident_id": ("身份证号码有误，请核对（18 位，末位校验码）",
                          "Check the resident ID number (18 characters, last one a check digit)"),
    "check_credit_code": ("统一社会信用代码有误，请核对", "Check the unified social credit code"),
    "check_phone": ("请填写 11 位手机号或带区号的固定电话",
                    "Enter an 11-digit mobile or a landline with area code"),
    "accept": ("受理并生成流转单", "Accept and make the routing slip"),
    # routing slip
    "routing_slip": ("流转单", "Routing slip"),
    "case_number": ("受理编号", "Case number"),
    "accepted_at": ("受理时间", "Accepted at"),
    "intake_window": ("受理窗口", "Intake window"),
    "windows_visited": ("跑动次数", "Trips"),
    "departments": ("审批部门", "Departments"),
    "department": ("部门", "Department"),
    "items": ("办理事项", "Items"),
    "item": ("事项", "Item"),
    "item_code": ("编码", "Code"),
    "time_limit": ("承诺时限", "Time limit"),
    "deadline": ("办结期限", "Deadline"),
    "status": ("状态", "Status"),
    "paused": ("补正中，时限暂停", "paused for a supplement"),
    "materials_received": ("已收材料", "Materials received"),
    "materials_missing": ("待补材料（容缺）", "Materials to supply (gaps)"),
    "handed_in_count": ("纸质件 {n} 份", "{n} handed in on paper"),
    "saved_count": ("共用免交 {n} 份", "{n} saved by sharing"),
    "source": ("来源", "Source"),
    "source_paper": ("纸质件", "paper"),
    "source_e_licence": ("电子证照", "e-licence"),
    "supply_by": ("补齐期限", "Supply by"),
    "overdue": ("已逾期", "overdue"),
    "nothing_missing": ("材料齐全", "Nothing missing"),
    "slip_hint": ("本单随案流转，各部门共用已收材料，申请人无需重复提交。",
                  "This slip travels with the case; departments share the materials received, "
                  "so nothing is handed in twice."),
    "sign_clerk": ("受理人签字", "Clerk's signature"),
    "sign_applicant": ("申请人签字", "Applicant's signature"),
    "sign_date": ("日期", "Date"),
    "print": ("打印", "Print"),
    "next_intake": ("继续受理", "Next intake"),
    "item_submitted": ("已受理", "submitted"),
    "item_in_review": ("审查中", "in review"),
    "item_supplement_requested": ("待补正", "supplement requested"),
    "item_approved": ("已批准", "approved"),
    "item_rejected": ("不予批准", "rejected"),
    "item_delivered": ("已出件", "delivered"),
    # back office
    "backoffice": ("后台审批", "Back-office approval"),
    "choose_department": ("选择审批部门", "Choose a department"),
    "approver": ("审批人", "Approver"),
    "approver_hint": ("请填写审批人姓名或工号", "Enter the approver's name or staff number"),
    "claim": ("认领", "Claim"),
    "approve": ("批准", "Approve"),
    "reject": ("不予批准", "Reject"),
    "request_supplement": ("要求补正", "Request supplement"),
    "reason": ("理由", "Reason"),
    "reason_hint": ("不予批准或要求补正时必须填写理由", "A reason is required to reject or to request a supplement"),
    "no_cases": ("暂无案件", "No cases"),
    "claimed_by": ("认领人", "Claimed by"),
    "unclaimed": ("未认领", "unclaimed"),
    "refresh": ("刷新", "Refresh"),
    "console_submitted": ("待认领", "waiting"),
    "console_claimed": ("审查中", "in review"),
    "console_supplement_requested": ("待补正", "supplement requested"),
    "console_approved": ("已批准", "approved"),
    "console_rejected": ("不予批准", "rejected"),
    "missing_materials": ("待补材料", "Missing"),
    "actions": ("操作", "Actions"),
    # outbox
    "outbox": ("流转消息", "Hand-off outbox"),
    "all": ("全部", "all"),
    "message": ("消息", "Message"),
    "attempts": ("尝试次数", "Attempts"),
    "next_attempt": ("下次尝试", "Next attempt"),
    "last_error": ("最近错误", "Last error"),
    "resend": ("重新发送", "Resend"),
    "created": ("创建时间", "Created"),
    "outbox_pending": ("待发送", "pending"),
    "outbox_delivered": ("已送达", "delivered"),
    "outbox_dead": ("发送失败", "dead letter"),
    "no_messages": ("暂无消息", "No messages"),
}

ERRORS_ZH: dict[str, str] = {
    "key_material_missing": "缺少关键材料，不能受理",
    "invalid_applicant": "申请人类型有误",
    "invalid_name": "请填写申请人姓名或单位名称",
    "invalid_resident_id": "身份证号码有误，请核对",
    "invalid_credit_code": "统一社会信用代码有误，请核对",
    "invalid_phone": "联系电话有误，请核对",
    "no_items": "请至少选择一个事项",
    "duplicate_item": "同一事项选择了两次",
    "item_not_at_window": "本窗口不受理所选事项",
    "unknown_item": "事项不存在或已停办",
    "unknown_material": "材料不属于所选事项",
    "material_twice": "同一材料不能既收纸质件又调取电子证照",
    "e_licence_not_accepted": "该材料不能以电子证照代替",
    "unknown_case": "受理编号不存在",
    "unknown_case_item": "该案件没有此事项",
    "already_received": "该材料已经收取",
    "invalid_transition": "当前状态下不能进行此操作",
    "reason_required": "请填写理由",
    "invalid_reason": "理由最多 500 字",
    "actor_required": "请填写审批人",
    "missing_field": "请填写必填项",
    "invalid_field": "填写内容格式有误",
}


def _words(lang: str) -> dict[str, str]:
    index = LANGUAGES.index(lang)
    return {key: pair[index] for key, pair in MESSAGES.items()}


def _translate(key: str, lang: str, **values: object) -> str:
    pair = MESSAGES.get(key)
    if pair is None:
        return translate(key, lang, **values)
    text = pair[LANGUAGES.index(lang)]
    return text.format(**values) if values else text


@bp.context_processor
def intake_words() -> dict[str, Any]:
    """Runs after the app's processor, so these pages see the hall's words plus their own."""
    lang = current_language()
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    messages = {**catalogue(lang), **_words(lang)}
    if lang == "zh":
        messages.update({f"err_{code}": text for code, text in ERRORS_ZH.items()})
    return {
        "t": lambda key, **values: _translate(key, lang, **values),
        "t_other": lambda key, **values: _translate(key, other, **values),
        "messages": messages,
    }


def _rules() -> IntakeRules:
    return IntakeRules.from_config(current_hall().config)


def _session_clerk_at(number: int) -> str | None:
    """The clerk this browser is logged in as at window ``number`` (the API's session cookie)."""
    clerk = session.get("clerk")
    return clerk if clerk and session.get("window") == number else None


@bp.get("/intake")
def intake() -> str:
    """The intake form at ``?window=<n>``: items of the window's services only."""
    number = request.args.get("window", "")
    if not number.isdigit():
        abort(404)
    hall = current_hall()
    with hall.db.read() as s:
        window = s.get(Window, int(number))
        if window is None:
            abort(404)
        services = [
            {"code": svc.code, "letter": svc.letter, "name_zh": svc.name_zh, "name_en": svc.name_en}
            for code in window.service_codes
            if (svc := s.get(Service, code)) is not None
        ]
        rules = _rules()
        gap_due = rules.calendar.add_working_days(
            hall_day(hall.clock(), rules.timezone), rules.supplement_working_days
        )
        return render_template(
            "intake.html",
            window=window,
            services=services,
            clerk=_session_clerk_at(window.number),
            gap_due=gap_due.isoformat(),
        )


def _qr_svg(text: str) -> Markup:
    """The QR code drawn here as inline SVG: prints with the page, needs no outside service."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return Markup(svg[svg.index("<svg"):])


@bp.get("/cases/<number>/slip")
def slip(number: str) -> str:
    """The printable routing slip (流转单); the applicant's identity is masked, it is paper."""
    hall = current_hall()
    with hall.db.read() as s:
        try:
            view = routing_slip(s, number, rules=_rules(), now=hall.clock())
        except NotFound:
            abort(404)
        clerk = s.get(Clerk, view["clerk"])
    accepted = to_local(
        dt.datetime.fromisoformat(view["accepted_at"]).replace(tzinfo=None), hall.config.timezone
    )
    return render_template(
        "routing_slip.html",
        slip=view,
        qr_svg=_qr_svg(view["case_number"]),
        accepted_local=f"{accepted:%Y-%m-%d %H:%M}",
        clerk_name=clerk.name if clerk else view["clerk"],
    )


def departments() -> list[dict[str, str]]:
    """Departments of the active catalogue, in catalogue order: who has a back-office console."""
    with current_hall().db.read() as s:
        rows = s.execute(
            select(ServiceItem.department_code, ServiceItem.department_name_zh)
            .where(ServiceItem.active.is_(True))
            .order_by(ServiceItem.position)
        ).all()
    seen: dict[str, str] = {}
    for code, name_zh in rows:
        seen.setdefault(code, name_zh)
    return [{"code": code, "name_zh": name_zh} for code, name_zh in seen.items()]


@bp.get("/backoffice")
def backoffice() -> str:
    known = departments()
    chosen = request.args.get("department")
    if chosen is not None and chosen not in {d["code"] for d in known}:
        abort(404)
    return render_template("backoffice.html", departments=known, department=chosen)


@bp.get("/admin/outbox")
def outbox() -> str:
    return render_template("outbox.html", departments=departments())
