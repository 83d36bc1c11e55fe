"""The pages' words: Simplified Chinese first, English on request (?lang=en, kept in a cookie)."""

from __future__ import annotations

from flask import request

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "lang_switch": ("English", "中文"),
    "kiosk": ("取号机", "Kiosk"),
    "screen": ("叫号屏", "Call screen"),
    "clerk": ("窗口工作台", "Clerk console"),
    "manager": ("管理总览", "Manager overview"),
    "pages": ("大厅页面", "Hall pages"),
    "zone_screens": ("分区叫号屏", "Zone screens"),
    "choose_zone": ("请选择办事区域", "Choose a zone"),
    "choose_service": ("请选择办理业务", "Choose a service"),
    "back": ("返回", "Back"),
    "priority": ("优先服务", "Priority"),
    "priority_normal": ("普通", "Normal"),
    "priority_elderly": ("老年人", "Elderly"),
    "priority_disabled": ("残障人士", "Disabled"),
    "priority_appointment": ("预约", "Appointment"),
    "appointment_check_in": ("预约签到", "Appointment check-in"),
    "appointment_code": ("请输入 6 位预约码", "Enter your 6-digit booking code"),
    "check_in": ("签到取号", "Check in"),
    "your_ticket": ("您的号码", "Your ticket"),
    "people_ahead": ("前面等候", "People ahead"),
    "persons": ("人", "people"),
    "estimated_wait": ("预计等候", "Estimated wait"),
    "minutes": ("分钟", "min"),
    "no_window_open": ("暂无窗口开放", "no window open yet"),
    "scan_to_follow": ("扫码查看排队进度", "Scan to follow your place in line"),
    "print_ticket": ("打印号票", "Print ticket"),
    "done": ("完成", "Done"),
    "waiting": ("等候", "Waiting"),
    "hall_closed": ("大厅已闭厅，请在办公时间内取号", "The hall is closed; please come during opening hours"),
    "now_calling": ("正在叫号", "Now calling"),
    "recent_calls": ("最近叫号", "Recent calls"),
    "window_no": ("{n} 号窗口", "Window {n}"),
    "please_go": ("请 {t} 号到 {w} 号窗口", "Ticket {t}, please go to window {w}"),
    "enable_sound": ("点击启用声音", "Click to enable sound"),
    "reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "waiting_per_service": ("各业务等候人数", "Waiting per service"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "window": ("窗口", "Window"),
    "clerk_id": ("工号", "Clerk"),
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
    "status_waiting": ("等候中", "waiting"),
    "status_called": ("已叫号", "called"),
    "status_serving": ("办理中", "being served"),
    "status_done": ("已办结", "done"),
    "status_no_show": ("已过号", "missed"),
    "status_cancelled": ("已取消", "cancelled"),
    "cancel_ticket": ("取消排队", "Leave the queue"),
    "ticket_status": ("排队进度", "Your place in line"),
    "rate_service": ("请为本次服务评价", "Please rate this service"),
    "comment": ("意见（可选）", "Comment (optional)"),
    "complaint": ("我要投诉", "This is a complaint"),
    "submit": ("提交", "Submit"),
    "thanks": ("感谢您的评价", "Thank you for your rating"),
    "service": ("业务", "Service"),
    "zone": ("区域", "Zone"),
    "open_windows": ("开放窗口", "Open windows"),
    "longest_wait": ("最长等候", "Longest wait"),
    "windows": ("窗口状态", "Windows"),
    "served_today": ("今日办结", "Served today"),
    "ticket": ("号码", "Ticket"),
    "reports": ("统计报表", "Reports"),
    "updated": ("更新于", "Updated"),
}


def current_language() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang") or "zh"
    return lang if lang in LANGUAGES else "zh"


def catalogue(lang: str) -> dict[str, str]:
    index = LANGUAGES.index(lang)
    return {key: pair[index] for key, pair in MESSAGES.items()}


def translate(key: str, lang: str, **values: object) -> str:
    pair = MESSAGES.get(key)
    text = pair[LANGUAGES.index(lang)] if pair else key
    return text.format(**values) if values else text
