"""The pages' words: Simplified Chinese first, English on request (?lang=en, kept in a cookie).

One catalogue serves both sides: Jinja gets ``t(key)``, the page scripts get
the same strings embedded as JSON, so a word is translated in one place.
"""

from __future__ import annotations

from flask import request

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
