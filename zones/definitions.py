"""The five standard zones of an integrated service hall (../shared/GLOSSARY.md).

A zone's rules decide what the floor software may do there: the back approval
zone is where departments' approvers work, so citizens take no tickets for it
and no call screen announces into it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ZoneRules:
    code: str
    name_zh: str
    name_en: str
    citizen_facing: bool
    """Citizens queue here: the kiosk offers its services and screens announce calls."""
    window_kinds: frozenset[str]
    """Kinds of window that may stand in this zone."""


STANDARD_ZONES: dict[str, ZoneRules] = {
    z.code: z
    for z in (
        ZoneRules(
            "front_intake", "前台受理区", "Front intake", True,
            frozenset({"intake", "delivery", "general"}),
        ),
        ZoneRules(
            "back_approval", "后台审批区", "Back approval", False,
            frozenset({"approval"}),
        ),
        ZoneRules(
            "public_affairs", "公共事务区", "Public affairs", True,
            frozenset({"general", "delivery"}),
        ),
        ZoneRules(
            "egov_experience", "电子政务体验区", "E-government experience", True,
            frozenset({"general", "self_service"}),
        ),
        ZoneRules(
            "business", "商务区", "Business services", True,
            frozenset({"general", "delivery"}),
        ),
    )
}


def rules_for(code: str) -> ZoneRules:
    """Rules of a zone; zones a hall adds beyond the standard five are citizen-facing."""
    if code in STANDARD_ZONES:
        return STANDARD_ZONES[code]
    kinds = frozenset({"intake", "delivery", "general", "self_service"})
    return ZoneRules(code, code, code, True, kinds)
