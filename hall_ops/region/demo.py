"""The demo deployment's regional staff: a manager and an admin over the whole hierarchy
(every top node), in the deployment's database, made once and kept across restarts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from hall_ops.region.directory import HallRef
from hall_ops.staff import accounts
from hall_ops.staff.demo import DEMO_PASSWORD, DemoLogin
from hall_ops.staff.models import StaffMember
from hall_ops.staff.policy import StaffPolicy

REGIONAL = (("manager", "region-manager", "区域主任"), ("admin", "region-admin", "区域管理员"))


def create_regional_demo_staff(session: Session, nodes: Sequence[HallRef], now: dt.datetime,
                               policy: StaffPolicy, *,
                               password: str = DEMO_PASSWORD) -> list[DemoLogin]:
    tops = [node.code for node in nodes if node.parent is None]
    for role, login, name in REGIONAL:
        if session.get(StaffMember, login) is None:
            accounts.add_staff(session, "demo", login, name, now, policy, password=password)
        for top in tops:
            accounts.grant_role(session, "demo", login, role, now, policy, hall=top)
    return [DemoLogin(role, login, name, password) for role, login, name in REGIONAL]
