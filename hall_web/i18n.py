"""The pages' words: Simplified Chinese first, English on request (?lang=en, kept in a cookie).

(Over 500 lines because it holds the word tables themselves; they move to
gettext .po files, see issue 13.)

One catalogue serves both sides: Jinja gets ``t(key)``, the page scripts get
the same strings embedded as JSON, so a word is translated in one place.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, request, url_for

from hall_web.context import current_hall

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "intake_form": ("受理登记", "Intake form"),
    "collect_result": ("领取办理结果", "Collect a result"),
    "service_guide": ("办事指南", "Service guide"),
    "rating_pad": ("服务评价", "Rate our service"),
    "pad_idle": ("欢迎办事，办结后请在此评价", "After your service, please rate it here"),
    "no_items": ("本业务暂无事项", "No items for this service"),
    "time_limit": ("办理时限", "Time limit"),
    "working_days": ("个工作日", "working days"),
    "fee": ("收费", "Fee"),
    "free": ("免费", "free"),
    "material": ("申报材料", "Material"),
    "copies": ("份数", "Copies"),
    "key_material": ("必须提交", "required"),
    "may_follow": ("可容缺后补", "may follow later"),
    "e_licence_ok": ("可用电子证照", "e-licence accepted"),
    "case_no": ("办件号", "Case number"),
    "phone_last4": ("手机号后四位", "Last 4 digits of phone"),
    "take_ticket": ("取号", "Take a ticket"),
    "hand_over": ("交付结果", "Hand over result"),
    "result_ready": ("结果已办好，请到统一出件窗口领取", "Your result is ready at the delivery window"),
    "result_pending": ("审批中", "Being approved"),
    "result_handed_over": ("结果已领取", "Result collected"),
    "backoffice": ("后台审批", "Back-office approval"),
    "backoffice_hint": ("部门审批人员认领、审批、退回", "Departments claim, approve, reject"),
    "outbox": ("流转消息", "Hand-off outbox"),
    "outbox_hint": ("移交审批系统的消息与重发", "Messages to approval systems, resend"),
    # key: (zh, en)
    "lang_switch": ("English", "中文"),
    "kiosk": ("自助取号", "Ticket kiosk"),
    "screen": ("叫号屏", "Call screen"),
    "clerk": ("窗口工作台", "Clerk console"),
    "manager": ("管理总览", "Manager overview"),
    "pages": ("大厅页面", "Hall pages"),
    "kiosk_hint": ("选择业务，领取排队号", "Choose a service, take a number"),
    "screen_hint": ("全大厅叫号显示", "Calls for the whole hall"),
    "clerk_hint": ("叫号、办理、转办", "Call, serve, transfer"),
    "manager_hint": ("排队与窗口实时状况", "Live queues and windows"),
    "whole_hall": ("全大厅", "Whole hall"),
    "zone_screens": ("分区叫号屏", "Zone screens"),
    "window_screens": ("窗口屏", "Window screens"),
    # kiosk
    "welcome": ("欢迎办事", "Welcome"),
    "choose_zone": ("请选择办事区域", "Choose a zone"),
    "choose_service": ("请选择办理业务", "Choose a service"),
    "back": ("返回", "Back"),
    "priority": ("优先服务", "Priority"),
    "priority_normal": ("普通", "Normal"),
    "priority_elderly": ("老年人", "Elderly"),
    "priority_disabled": ("残障人士", "Disabled"),
    "priority_appointment": ("预约", "Appointment"),
    "appointment_check_in": ("预约签到", "Check in for an appointment"),
    "appointment_code": ("请输入 6 位预约码", "Enter your 6-digit booking code"),
    "check_in": ("签到取号", "Check in"),
    "clear": ("清除", "Clear"),
    "delete": ("删除", "Delete"),
    "your_ticket": ("您的号码", "Your ticket"),
    "people_ahead": ("前面等候", "People ahead"),
    "persons": ("人", "people"),
    "estimated_wait": ("预计等候", "Estimated wait"),
    "minutes": ("分钟", "min"),
    "no_window_open": ("暂无窗口开放", "no window open yet"),
    "scan_to_follow": ("扫码查看排队进度", "Scan to follow your place in line"),
    "print_ticket": ("打印号票", "Print ticket"),
    "done": ("完成", "Done"),
    "returning": ("{s} 秒后返回首页", "Back to the start in {s} s"),
    "waiting": ("等候", "Waiting"),
    "hall_closed": ("大厅已闭厅，请在办公时间内取号", "The hall is closed; please come during opening hours"),
    "opening_hours": ("办公时间", "Opening hours"),
    "day_mon": ("周一", "Mon"),
    "day_tue": ("周二", "Tue"),
    "day_wed": ("周三", "Wed"),
    "day_thu": ("周四", "Thu"),
    "day_fri": ("周五", "Fri"),
    "day_sat": ("周六", "Sat"),
    "day_sun": ("周日", "Sun"),
    "closed_day": ("休息", "closed"),
    "taken_at": ("取号时间", "Taken at"),
    "keep_ticket": ("请妥善保管号票，过号需重新取号", "Keep this ticket; a missed number needs a new ticket"),
    # call screen
    "now_calling": ("正在叫号", "Now calling"),
    "recent_calls": ("最近叫号", "Recent calls"),
    "window_no": ("{n} 号窗口", "Window {n}"),
    "please_go": ("请 {t} 号到 {w} 号窗口", "Ticket {t}, please go to window {w}"),
    "please_go_short": ("请到 {w} 号窗口", "Please go to window {w}"),
    "recall_mark": ("重呼", "again"),
    "enable_sound": ("点击启用声音", "Click to enable sound"),
    "reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "waiting_per_service": ("各业务等候人数", "Waiting per service"),
    "no_calls_yet": ("暂无叫号", "No calls yet"),
    # clerk console
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "window": ("窗口", "Window"),
    "clerk_id": ("工作人员", "Clerk"),
    "pin": ("密码", "PIN"),
    "call_next": ("叫号", "Call next"),
    "recall": ("重呼", "Recall"),
    "no_show": ("过号", "No-show"),
    "start": ("开始办理", "Start"),
    "finish": ("办结", "Finish"),
    "transfer": ("转办", "Transfer"),
    "pause": ("暂停", "Pause"),
    "resume": ("恢复", "Resume"),
    "to_service": ("转至业务", "To service"),
    "keep_service": ("（业务不变）", "(same service)"),
    "to_window": ("转至窗口（可选）", "To window (optional)"),
    "current_ticket": ("当前号码", "Current ticket"),
    "none": ("无", "none"),
    "my_queue": ("本窗口队列", "My queue"),
    "next_numbers": ("即将叫到", "Next up"),
    "state": ("状态", "State"),
    "state_closed": ("关闭", "closed"),
    "state_idle": ("空闲", "idle"),
    "state_calling": ("叫号中", "calling"),
    "state_serving": ("办理中", "serving"),
    "state_paused": ("暂停", "paused"),
    # ticket status (citizen's phone)
    "status_waiting": ("等候中", "waiting"),
    "status_called": ("已叫号", "called"),
    "status_serving": ("办理中", "being served"),
    "status_done": ("已办结", "done"),
    "status_no_show": ("已过号", "missed"),
    "status_cancelled": ("已取消", "cancelled"),
    "cancel_ticket": ("取消排队", "Leave the queue"),
    "confirm_cancel": ("确定取消排队吗？", "Leave the queue for good?"),
    "ticket_status": ("排队进度", "Your place in line"),
    "rate_service": ("请为本次服务评价", "Please rate this service"),
    "comment": ("意见（可选）", "Comment (optional)"),
    "complaint": ("我要投诉", "This is a complaint"),
    "submit": ("提交", "Submit"),
    "thanks": ("感谢您的评价", "Thank you for your rating"),
    # manager overview
    "service": ("业务", "Service"),
    "zone": ("区域", "Zone"),
    "open_windows": ("开放窗口", "Open windows"),
    "longest_wait": ("最长等候", "Longest wait"),
    "windows": ("窗口状态", "Windows"),
    "served_today": ("今日办结", "Served today"),
    "ticket": ("号码", "Ticket"),
    "total_waiting": ("等候总人数", "Waiting now"),
    "windows_open": ("开放窗口数", "Windows open"),
    "served_total": ("今日办结", "Served today"),
    "unstaffed_queue": ("有人等候但无窗口开放", "People waiting, no window open"),
    "tickets_per_hour": ("今日分时取号", "Tickets per hour today"),
    "tickets": ("取号", "Tickets"),
    "served": ("办结", "Served"),
    "reports": ("统计报表", "Reports"),
    "updated": ("更新于", "Updated"),
}

ERRORS_ZH: dict[str, str] = {
    # API error code → what a Chinese-speaking clerk or citizen reads. English pages show the
    # API's own message, which is English and names the window or ticket concerned.
    "bad_credentials": "工作人员或密码错误",
    "clerk_elsewhere": "该工作人员已在其他窗口登录",
    "window_taken": "该窗口已有工作人员登录",
    "not_logged_in": "请先登录本窗口",
    "not_at_window": "您未在本窗口登录",
    "window_paused": "窗口已暂停，请先恢复",
    "window_busy": "请先办结、转办或过号当前号码",
    "no_services": "本窗口未配置业务",
    "no_current_ticket": "本窗口当前没有号码",
    "ticket_not_current": "当前号码已变化，请刷新页面",
    "not_called": "该号码已在办理中",
    "recall_first": "重呼次数不足，请先重呼再过号",
    "not_serving": "请先开始办理，再办结",
    "same_window": "不能转给本窗口",
    "window_does_not_serve": "目标窗口不办理该业务",
    "same_service": "该号码已在此业务中",
    "no_target": "请选择转办的业务或窗口",
    "unknown_window": "窗口不存在",
    "unknown_service": "业务不存在",
    "unknown_ticket": "号码不存在",
    "ticket_not_waiting": "该号码已不在等候中",
    "not_citizen_facing": "该区域不对外取号",
    "hall_closed": "大厅已闭厅，请在办公时间内取号",
    "unknown_appointment": "预约码无效，请核对后重新输入",
    "appointment_not_due": "未到预约签到时间，或已超过签到时间",
    "already_checked_in": "该预约已签到取号",
    "already_rated": "您已评价过本次服务",
    "not_finished": "办结后才能评价",
    "invalid_score": "请选择评分",
    "nobody_waiting": "当前没有等候本窗口业务的号码",
}


def current_language() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang") or "zh"
    return lang if lang in LANGUAGES else "zh"


def catalogue(lang: str) -> dict[str, str]:
    """Every string a page's script may need, error texts as ``err_<code>`` (Chinese only)."""
    index = LANGUAGES.index(lang)
    words = {key: pair[index] for key, pair in MESSAGES.items()}
    if lang == "zh":
        words.update({f"err_{code}": text for code, text in ERRORS_ZH.items()})
    return words


def translate(key: str, lang: str, **values: object) -> str:
    pair = MESSAGES.get(key)
    text = pair[LANGUAGES.index(lang)] if pair else key
    return text.format(**values) if values else text


INTAKE_WORDS: dict[str, tuple[str, str]] = {
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


INTAKE_ERRORS_ZH: dict[str, str] = {
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


MANAGER_WORDS: dict[str, tuple[str, str]] = {
    # key: (zh, en) — merged over hall_web.i18n on these pages only
    "dashboard": ("实时看板", "Live dashboard"),
    "cm_title": ("办件指标（按部门）", "Case measures by department"),
    "cm_department": ("部门", "Department"),
    "cm_cases": ("办件数", "Cases"),
    "cm_windows": ("人均跑窗口数", "Windows visited per case"),
    "cm_materials": ("人均交材料数", "Materials handed in per case"),
    "cm_decided": ("已办结事项", "Items decided"),
    "cm_within": ("按时办结", "Within the limit"),
    "cm_days": ("平均用时（工作日）", "Mean working days to decision"),
    "cm_overdue": ("在办超期", "Open and overdue"),
    "occupancy": ("各区域在场人数", "People per zone"),
    "occupancy_chart": ("近 {h} 小时在场人数", "People present, last {h} h"),
    "estimate": ("估算", "estimate"),
    "estimate_hint": ("无摄像头读数，按等候号票估算",
                      "No camera count: estimated from waiting tickets"),
    "stale": ("数据过时", "stale"),
    "stale_hint": ("摄像头离线或读数过旧", "Camera offline or its count too old"),
    "cameras": ("摄像头", "Cameras"),
    "camera_status": ("状态", "Status"),
    "last_seen": ("最后在线", "Last seen"),
    "cam_online": ("在线", "online"),
    "cam_offline": ("离线", "offline"),
    "cam_unauthorized": ("认证失败", "credentials refused"),
    "cam_unknown": ("尚未轮询", "not polled yet"),
    "never": ("从未", "never"),
    "no_cameras": ("未配置摄像头", "No cameras configured"),
    "alerts": ("告警", "Alerts"),
    "no_alerts": ("暂无告警", "No alerts"),
    "alert_queue": ("{s}：{n} 人等候（告警线 {t} 人）", "{s}: {n} waiting (alert at {t})"),
    "alert_unstaffed": ("{s}：{n} 人等候，但无窗口开放", "{s}: {n} waiting, no window open"),
    "alert_camera": ("摄像头 {c}（{z}）{st}", "Camera {c} ({z}) {st}"),
    "alert_overdue": ("{n} 个事项已超过办理时限", "{n} item(s) past their time limit"),
    "overdue": ("超期与临期事项", "Overdue and due-soon items"),
    "case_number": ("受理编号", "Case"),
    "item": ("事项", "Item"),
    "department": ("部门", "Department"),
    "deadline": ("办结期限", "Deadline"),
    "used_days": ("已用/时限（工作日）", "Used / limit (working days)"),
    "overdue_mark": ("已超期", "overdue"),
    "warning_mark": ("临期", "due soon"),
    "no_overdue": ("暂无超期或临期事项", "Nothing overdue or due soon"),
    "workload": ("窗口调配建议", "Window workload proposals"),
    "refresh": ("刷新", "Refresh"),
    "no_proposals": ("当前无需调整窗口", "No change needed now"),
    "apply": ("采纳", "Apply"),
    "wait_change": ("预计等候（分钟）调整前 → 后", "Predicted wait (min) before → after"),
    "kind_assign": ("调整业务", "reassign"),
    "kind_open": ("开启窗口", "open window"),
    "kind_move": ("人员调动", "move clerk"),
    "kind_auto_mode": ("自动调配设置", "auto mode settings"),
    "needs_person": ("需人工执行", "needs a person"),
    "no_window_mark": ("无窗口", "no window"),
    "auto_mode": ("自动调配", "Auto mode"),
    "auto_enabled": ("启用自动调配（只调整已开放窗口的业务）",
                     "Apply automatically (only reassigns open windows)"),
    "min_windows": ("每项业务至少保留窗口数", "Minimum windows per service"),
    "min_interval": ("两次调整最短间隔（分钟）", "Minimum minutes between changes"),
    "save": ("保存", "Save"),
    "saved": ("已保存", "Saved"),
    "next_allowed": ("下次可自动调整", "Next automatic change from"),
    "changes": ("调配记录", "Change log"),
    "actor_manager": ("管理员", "manager"),
    "actor_auto": ("自动", "auto"),
    "no_changes": ("暂无调配记录", "No changes yet"),
    "on": ("开", "on"),
    "off": ("关", "off"),
    # reports
    "date_from": ("开始日期", "From"),
    "date_to": ("结束日期", "To"),
    "show": ("查询", "Show"),
    "by_day": ("按日", "By day"),
    "by_hour": ("按时段", "By hour of day"),
    "by_service": ("按业务", "By service"),
    "by_window": ("按窗口", "By window"),
    "by_clerk": ("按工作人员", "By clerk"),
    "no_shows": ("过号", "No-shows"),
    "cancelled": ("取消", "Cancelled"),
    "wait_mean": ("平均等候（分钟）", "Mean wait (min)"),
    "wait_p90": ("90% 等候（分钟）", "90th pct wait (min)"),
    "service_mean": ("平均办理（分钟）", "Mean service (min)"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "no_data": ("该时段无数据", "No tickets in this period"),
    "period": ("统计区间", "Period"),
}


def words_with(overlay: dict[str, tuple[str, str]], lang: str) -> dict[str, str]:
    return {**catalogue(lang), **{key: pair[LANGUAGES.index(lang)] for key, pair in overlay.items()}}


def register_overlay(bp: Blueprint, overlay: dict[str, tuple[str, str]],
                     errors_zh: dict[str, str] | None = None) -> None:
    """These pages' words laid over the shared catalogue, for Jinja and the page scripts."""

    @bp.context_processor
    def overlay_words() -> dict[str, Any]:
        lang = current_language()
        other = LANGUAGES[1 - LANGUAGES.index(lang)]
        mine, theirs = words_with(overlay, lang), words_with(overlay, other)
        if lang == "zh" and errors_zh:
            mine.update({f"err_{code}": text for code, text in errors_zh.items()})

        def t(key: str, **values: object) -> str:
            text = mine.get(key, key)
            return text.format(**values) if values else text

        def t_other(key: str, **values: object) -> str:
            text = theirs.get(key, key)
            return text.format(**values) if values else text

        return {"t": t, "t_other": t_other, "messages": mine}


def init_i18n(app: Flask) -> None:
    """The hall's words on every page, and the chosen language kept in a cookie."""
    app.context_processor(page_globals)
    app.after_request(remember_language)


def _wait_text(minutes: float | None, lang: str) -> str:
    """An estimate as people read it (the same rule as ``minutes()`` in common.js)."""
    if minutes is None:
        return translate("no_window_open", lang)
    shown = "< 1" if 0 < minutes < 1 else str(round(minutes))
    return f"{shown} {translate('minutes', lang)}"

def _lang_url(lang: str) -> str:
    """This page in the other language, keeping its query (a zone screen stays that zone)."""
    if request.endpoint is None:
        return "?lang=" + lang
    return url_for(request.endpoint, **{**request.args.to_dict(), **(request.view_args or {}),
                                        "lang": lang})


def page_globals() -> dict[str, Any]:
    lang = current_language()
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    hall = current_hall().config
    return {
        "lang": lang,
        "other_lang": other,
        "t": lambda key, **values: translate(key, lang, **values),
        "t_other": lambda key, **values: translate(key, other, **values),
        "name": lambda item: item["name_en" if lang == "en" else "name_zh"],
        "wait_text": lambda minutes: _wait_text(minutes, lang),
        "lang_url": _lang_url(other),
        "messages": catalogue(lang),
        "hall_name": hall.name_zh if lang == "zh" else hall.name_en,
        "hall_timezone": hall.timezone.key,
    }


def remember_language(response: Response) -> Response:
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response
