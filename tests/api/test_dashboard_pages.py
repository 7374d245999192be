"""The dashboard's overview, alarm assignment and comments, connection record pages, the
indicator report, paging and the keyboard, in a real browser (Playwright + chromium)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from connections.applications import NewApplication
from contract.decisions import Decision
from contract.profiles import MeterProfile
from meters.clock import wall_clock_ms
from meters.registry import MeterSighting, Registry
from meters.views import Actor, WorkerHealth
from tests.api.conftest import add_user, serving
from tests.api.test_dashboard import sign_in
from tests.conftest import sqlite_registry
from tests.helpers import gas_on

DAY = 86_400_000
OTTO = Actor("otto", "operator", "test")


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    now = wall_clock_ms()
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile(f"M{i:03d}") for i in range(120)], now)
    for name, role in (("otto", "operator"), ("ada", "operator"), ("sue", "supervisor")):
        add_user(registry, name, role, now)
    return registry


@pytest.fixture
def page(browser: Browser) -> Page:
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    yield page  # type: ignore[misc]
    page.close()


def test_the_overview_shows_the_fleet_alarms_by_severity_and_ingest_health(
    registry: Registry, tmp_path: Path, page: Page, artifacts: Path
) -> None:
    now = wall_clock_ms()
    registry.meters.record_sightings(
        {
            "M000": MeterSighting(now, now, "open", "online"),
            "M001": MeterSighting(now, now, "closed", "offline"),
            "M002": MeterSighting(now, now, "open", "online"),
        }
    )
    for meter, rule, action in (
        ("M001", "leak_detector", "shutoff"),
        ("M002", "offline", "alarm"),
        ("M000", "tamper", "alarm"),
    ):
        registry.alarms.record(Decision(now, meter, rule, action, {}), now)
    registry.workers.record(WorkerHealth("ingest", "0/1", now, 10, 100, 0, 0, 0, 42.0, 420.0))
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        expect(page.locator("#t-meters")).to_have_text("120")
        expect(page.locator("#t-online")).to_have_text("1")
        expect(page.locator("#t-offline")).to_have_text("2")  # its last will, and silence
        expect(page.locator("#t-never")).to_have_text("117")
        expect(page.locator("#t-closed")).to_have_text("1")
        expect(page.locator("#t-critical")).to_have_text("1")
        expect(page.locator("#t-warning")).to_have_text("1")
        expect(page.locator("#t-info")).to_have_text("1")
        expect(page.locator("#t-ingest")).to_have_text("正常 OK")
        expect(page.locator("#t-rate")).to_have_text("42")
        rules = page.locator("#alarm-rules tbody tr")
        expect(rules).to_have_count(3)
        expect(rules.nth(0)).to_contain_text("leak_detector")
        # Critical first in the alarm list too.
        expect(page.locator("#alarms tbody tr").first).to_contain_text("leak_detector")
        page.screenshot(path=str(artifacts / "dashboard-overview.png"), full_page=True)


def test_a_dead_lane_a_small_broker_window_and_data_completeness_show_on_the_overview(
    registry: Registry, tmp_path: Path, page: Page, artifacts: Path
) -> None:
    from contract.readings import Reading
    from telemetry import SqliteTelemetryStore

    now = wall_clock_ms()
    start = now - 3_600_000
    registry.meters.provision([MeterProfile("C000"), MeterProfile("C001")], start)
    registry.meters.record_sightings({m: MeterSighting(now, now) for m in ("C000", "C001")})
    store = SqliteTelemetryStore(tmp_path / "live.sqlite3")  # the store serving() opens
    store.write([Reading("C000", start + i * 60_000, 1.0 + i) for i in range(60)])
    store.write([Reading("C001", start + i * 120_000, 1.0 + i) for i in range(30)])
    store.close()
    warning = "the broker's in-flight window for MQTT 3.1.1 is 20 (< 1000)"
    fault = "lane 1/2 died at 1790000000000: its partition was handed on"
    registry.workers.record(
        WorkerHealth("w1", "0/2", now, 10, 100, 0, 0, 0, 4.0, 40.0, fault, warning)
    )
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        expect(page.locator("#t-ingest")).to_have_text("异常 check")
        expect(page.locator("#t-ingest-detail")).to_contain_text("严重故障 critical fault")
        expect(page.locator("#t-ingest-detail")).to_contain_text("lane 1/2 died")
        expect(page.locator("#t-ingest-tile")).to_have_class("tile critical")
        expect(page.locator("#t-completeness")).to_have_text("75.0 %")
        expect(page.locator("#t-completeness-detail")).to_contain_text("1 表低于 meters below 90 %")
        page.screenshot(path=str(artifacts / "dashboard-ingest-fault.png"), full_page=True)
        registry.workers.record(
            WorkerHealth("w1", "0/2", wall_clock_ms(), 10, 100, 0, 0, 0, 4.0, 40.0, "", warning)
        )
        page.reload()
        expect(page.locator("#t-ingest-detail")).to_contain_text("注意 note")
        expect(page.locator("#t-ingest-detail")).to_contain_text("in-flight window")


def test_assign_and_comment_from_the_keyboard(
    registry: Registry, tmp_path: Path, page: Page
) -> None:
    now = wall_clock_ms()
    registry.alarms.record(Decision(now, "M005", "micro_flow", "shutoff", {}), now)
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        expect(page.locator("#alarms tr[data-meter=M005]")).to_be_visible()
        page.keyboard.press("2")  # the alarms view: its first row takes the focus
        row = page.locator("#alarms tr[data-meter=M005]")
        expect(row).to_be_focused()
        page.keyboard.press("s")
        dialog = page.locator("#ask-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("select").select_option("ada")
        dialog.locator("textarea").fill("nearest to the site")
        dialog.locator("button[value=ok]").click()
        expect(row.locator("td.assigned")).to_have_text("ada")
        row.focus()
        page.keyboard.press("m")
        expect(dialog).to_be_visible()
        dialog.locator("textarea").fill("customer called back")
        page.keyboard.press("Tab")  # to the OK button
        page.keyboard.press("Enter")
        expect(row.locator("td.note")).to_contain_text("otto: customer called back")
    (alarm,) = registry.alarms.find(meter_id="M005")
    assert alarm.assigned_to == "ada"
    assert [e.action for e in registry.audit.entries()[:2]] == ["alarm.comment", "alarm.assign"]


def test_a_connection_record_shows_its_stages_and_pauses_and_can_be_paused(
    registry: Registry, tmp_path: Path, page: Page, artifacts: Path
) -> None:
    now = wall_clock_ms()
    new = NewApplication(
        "guangzhou", "none", "online", "Chen", "13800138000", "Tianhe 9", "Tianhe", now - DAY
    )
    application = registry.connections.create(new, OTTO, now)
    registry.connections.surveyed(application.id, OTTO, now - DAY // 2)
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        expect(page.locator("#connections tbody tr")).to_have_count(1)
        page.keyboard.press("3")
        expect(page.locator("#connections tbody tr").first).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#connection-number")).to_have_text(application.number)
        stages = page.locator("#connection-stages tbody tr")
        expect(stages).to_have_count(6)
        expect(stages.nth(1)).to_contain_text("勘查完成 Surveyed")
        expect(stages.nth(2)).to_contain_text("not yet")
        expect(page.locator("#connection-actions button[data-step=gas-on]")).to_be_hidden()
        expect(page.locator("#connection-no-pauses")).to_be_visible()
        expect(page.locator("#connection-actions button[data-step=surveyed]")).to_be_hidden()
        page.click("#connection-actions button[data-step=pause]")
        page.locator("#ask-dialog select").select_option("waiting_for_customer")
        page.locator("#ask-dialog textarea").fill("customer asked to wait for renovation")
        page.locator("#ask-dialog button[value=ok]").click()
        pauses = page.locator("#connection-pauses tbody tr")
        expect(pauses).to_have_count(1)
        expect(pauses.first).to_contain_text("paused now")
        expect(pauses.first).to_contain_text("等待用户 waiting for the customer")
        expect(pauses.first).to_contain_text("customer asked to wait for renovation")
        expect(page.locator("#connection-actions button[data-step=resume]")).to_be_visible()
        page.click("#connection-actions button[data-step=query-code]")  # a lost receipt
        page.locator("#ask-dialog textarea").fill("applicant lost the receipt")
        page.locator("#ask-dialog button[value=ok]").click()
        shown = page.locator("#connection-code")
        expect(shown).to_contain_text("shown once")
        page.screenshot(path=str(artifacts / "dashboard-connection.png"), full_page=True)
        code = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", shown.inner_text())
        assert code is not None
        assert registry.connections.lookup(application.number, code.group()) is not None
        assert application.query_code is not None  # the first one no longer opens it
        assert registry.connections.lookup(application.number, application.query_code) is None
        page.keyboard.press("Escape")
        expect(page.locator("#main")).to_be_visible()
    (pause,) = registry.connections.get(application.id).pauses
    assert (pause.reason, pause.evidence) == (
        "waiting_for_customer",
        "customer asked to wait for renovation",
    )
    assert pause.end_ms is None


def test_an_operator_records_gas_on_and_the_meter_confirms_it(
    registry: Registry, tmp_path: Path, page: Page, artifacts: Path
) -> None:
    now = wall_clock_ms()
    new = NewApplication("guangzhou", "none", "online", "Chen", "13800138000", "Tianhe 9")
    application = registry.connections.create(new, OTTO, now - DAY)
    registry.connections.commission(application.id, "M010", OTTO, now - DAY // 2)
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        page.locator("#connections tbody tr").first.click()
        expect(page.locator("#connection-number")).to_have_text(application.number)
        page.click("#connection-actions button[data-step=gas-on]")
        stages = page.locator("#connection-stages tbody tr")
        expect(stages.nth(3)).to_have_class("done")  # recorded by the utility
        expect(stages.nth(4)).to_contain_text("not yet")  # the meter has not flowed yet
        expect(page.locator("#connection-actions button[data-step=gas-on]")).to_be_hidden()
        page.screenshot(path=str(artifacts / "dashboard-gas-on-recorded.png"), full_page=True)
    recorded = registry.connections.get(application.id)
    assert recorded.gas_on_recorded_ms is not None and recorded.state == "open"
    registry.connections.first_flow({"M010": wall_clock_ms()}, wall_clock_ms())
    assert registry.connections.get(application.id).state == "done"


def test_documents_due_under_rongque_are_shown_and_received(
    registry: Registry, tmp_path: Path, page: Page, artifacts: Path
) -> None:
    now = wall_clock_ms()
    new = NewApplication(
        "guangzhou",
        "none",
        "counter",
        "Chen",
        "13800138000",
        "Tianhe 9",
        missing_documents=("房产证 property certificate", "身份证 ID card"),
        documents_due_ms=now + 2 * DAY,
    )
    application = registry.connections.create(new, OTTO, now)
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        page.locator("#connections tbody tr").first.click()
        line = page.locator("#connection-documents")
        expect(line).to_contain_text("容缺受理")
        expect(line).to_contain_text("身份证 ID card")
        page.screenshot(path=str(artifacts / "dashboard-documents-due.png"), full_page=True)
        page.click("#connection-actions button[data-step=documents]")
        page.locator("#ask-dialog select").select_option("身份证 ID card")
        page.locator("#ask-dialog button[value=ok]").click()
        expect(line).not_to_contain_text("身份证 ID card")
        expect(line).to_contain_text("房产证 property certificate")
    still = registry.connections.get(application.id).missing_documents
    assert still == ("房产证 property certificate",)


def test_an_operator_records_fees_and_one_off_the_list_raises_an_alarm(
    registry: Registry, tmp_path: Path, page: Page, artifacts: Path
) -> None:
    """A Lingbao record shows the city's stage names; a fee of the published list at its
    price is recorded quietly, one off the list is recorded and raises connection_fee."""
    import dataclasses

    from connections.policies import build_policies
    from connections.timelimits import BUILT_IN
    from connections.workdays import WorkCalendar

    priced = dataclasses.replace(BUILT_IN["lingbao"], fee_list={"indoor_installation": 300.0})
    policies = build_policies(WorkCalendar(), {"lingbao": priced}, 0.8)
    now = wall_clock_ms()
    new = NewApplication("lingbao", "none", "counter", "王", "13900139000", "函谷路 1")
    application = registry.connections.create(new, OTTO, now)
    with serving(registry, tmp_path, page, policies) as url:
        sign_in(page, url, "otto")
        expect(page.locator("#connections tbody tr").first).to_contain_text("受理勘查")
        page.locator("#connections tbody tr").first.click()
        expect(page.locator("#connection-stages tbody tr").first).to_contain_text("受理勘查")
        expect(page.locator("#connection-time")).to_contain_text("受理勘查")  # its own limit
        page.click("#connection-actions button[data-step=fees]")
        page.locator("#fee-item").select_option("indoor_installation")
        expect(page.locator("#fee-other")).to_be_hidden()
        page.locator("#fee-amount").fill("300")
        page.locator("#fee-note").fill("receipt 0042")
        page.locator("#fee-dialog button[value=ok]").click()
        facts = page.locator("#connection-facts")
        expect(facts).to_contain_text("indoor_installation 300")
        page.click("#connection-actions button[data-step=fees]")
        page.locator("#fee-item").select_option("")
        page.locator("#fee-other").fill("meter_deposit")
        page.locator("#fee-amount").fill("50")
        page.screenshot(path=str(artifacts / "dashboard-fee.png"), full_page=True)
        page.locator("#fee-dialog button[value=ok]").click()
        expect(facts).to_contain_text("meter_deposit 50")
        expect(page.locator("#fee-dialog")).to_be_hidden()
    fees = registry.connections.get(application.id).fees
    assert [(f.item, f.amount) for f in fees] == [
        ("indoor_installation", 300),
        ("meter_deposit", 50),
    ]
    (alarm,) = registry.alarms.find(meter_id=application.number)
    assert alarm.rule == "connection_fee"
    assert [f["item"] for f in alarm.detail["fees"]] == ["meter_deposit"]
    assert [e.action for e in registry.audit.entries()].count("connection.fee") == 2


def test_the_indicator_report_page(
    registry: Registry, tmp_path: Path, page: Page, artifacts: Path
) -> None:
    now = wall_clock_ms()
    today = datetime.date.today()
    start = datetime.datetime(today.year, today.month, 1).timestamp() * 1000
    submitted = max(int(start) + 1000, now - 2 * DAY)
    new = NewApplication(
        "guangzhou", "none", "online", "Wu", "13700137000", "Yuexiu 3", "", submitted
    )
    application = registry.connections.create(new, OTTO, now)
    registry.connections.commission(application.id, "M010", OTTO, now - 2000)
    gas_on(registry, application.id, "M010", now - 1000)
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        rows = page.locator("#report tbody tr")
        expect(rows.first).to_be_visible()
        guangzhou = rows.filter(has_text="guangzhou")
        expect(guangzhou.first).to_contain_text("100.0 %")
        href = page.locator("#report-csv").get_attribute("href")
        assert href is not None and "format=csv" in href
        csv = page.request.get(url.rstrip("/") + href)
        assert csv.ok and "guangzhou" in csv.text()
        page.fill("#report-form input[name=to]", "2020-01-01")
        page.fill("#report-form input[name=from]", "2020-02-01")
        page.click("#report-form button[type=submit]")
        expect(page.locator("#report-error")).to_contain_text("end must be after start")
        page.screenshot(path=str(artifacts / "dashboard-report.png"), full_page=True)


def test_lists_page_and_only_supervisors_see_the_open_button(
    registry: Registry, tmp_path: Path, page: Page
) -> None:
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        meters = page.locator("#meters tbody tr")
        expect(meters).to_have_count(100)
        pager = page.locator(".pager[data-list=meters]")
        expect(pager.locator("button[data-action=prev]")).to_be_disabled()
        pager.locator("button[data-action=next]").click()
        expect(meters).to_have_count(20)
        expect(pager.locator("button[data-action=next]")).to_be_disabled()
        meters.first.click()
        expect(page.locator("#meter-actions button[data-command=close]")).to_be_visible()
        expect(page.locator("#meter-actions button[data-command=open]")).to_be_hidden()
        page.click("#sign-out")
        sign_in(page, url, "sue")
        page.locator("#meters tbody tr").first.click()
        expect(page.locator("#meter-actions button[data-command=open]")).to_be_visible()
