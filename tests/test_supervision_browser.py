"""The supervision page in headless Chromium against the real server: a manager sees an
overdue item's red card, extends its limit with a reason, and after the deadline job the
card is green again, cleared in the manager's name."""

from __future__ import annotations

import datetime as dt

import pytest

from hall_ops.cases.supervision import supervise
from hall_ops.config import load_config
from hall_ops.db import Database
from tests.support.browser import staff_page
from tests.support.server import ROOT, running_server
from tests.test_intake import intake, serve

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 15_000


def test_a_manager_extends_an_overdue_item_and_the_card_clears(browser, tmp_path):
    config = load_config(ROOT / "config.toml")
    rules = config.intake_rules
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with running_server(tmp_path) as hall:
        db = Database(f"sqlite:///{tmp_path / 'hall.db'}")
        try:
            accepted = now - dt.timedelta(days=40)  # every limit of the flat sale is past
            number = intake(db, serve(db, config, 8, "c08", "real_estate", accepted),
                            now=accepted, rules=rules)
            with db.write() as s:
                assert {e.to_colour for e in supervise(s, rules, now)} == {"red"}

            page = staff_page(browser, hall, "/supervision?department=bdc", "manager",
                              viewport={"width": 1280, "height": 1000})
            card = page.locator("article.card[data-card=red]", has_text=number)
            assert card.count() == 1
            card.locator("input[name=days]").fill("60")
            card.locator("input[name=reason]").fill("需外单位协查产权")
            card.locator("button[type=submit]").click()
            page.wait_for_selector("text=已延期", timeout=WAIT_MS)

            with db.write() as s:
                changed = supervise(s, rules, now + dt.timedelta(minutes=5))
            assert [(e.to_colour, e.cause, e.actor) for e in changed] == [
                ("green", "extended", "manager")]
            page.goto(f"{hall}/supervision?department=bdc")
            card = page.locator("article.card[data-card=green]", has_text=number)
            assert card.count() == 1
            assert "需外单位协查产权" in card.inner_text()
            assert "由 manager 消除" in card.inner_text()
            assert page.errors == []
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "supervision.png"), full_page=True)
        finally:
            db.dispose()
