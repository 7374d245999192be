"""The dashboard in a real browser (Playwright + Debian's chromium): sign in, an alarm
appears live, acknowledge it, clear it with a reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from connections.applications import NewApplication
from contract.decisions import Decision
from contract.profiles import MeterProfile
from contract.protocol import CommandReply
from contract.readings import Reading
from contract.signing import sign_reply
from contract.thresholds import Thresholds
from devices.profiles import BUILT_IN
from meters.clock import wall_clock_ms
from meters.command_store import NewCommand
from meters.delivery_files import import_delivery
from meters.parameters import download_command
from meters.registry import MeterSighting, Registry
from meters.views import Actor
from safety.models import default_models
from telemetry import SqliteTelemetryStore
from tests.api.conftest import PASSWORD, LiveApi, add_user, serving
from tests.conftest import sqlite_registry
from tests.helpers import wait_until


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    registry = sqlite_registry(tmp_path)
    m2 = MeterProfile("M2", "G4", device_profile="cjt188")
    registry.meters.provision([MeterProfile("M1"), m2], wall_clock_ms())
    add_user(registry, "otto", "operator", wall_clock_ms())
    add_user(registry, "vera", "viewer", wall_clock_ms())
    return registry


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")


def test_an_operator_signs_in_sees_an_alarm_arrive_live_acknowledges_and_clears_it(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    with serving(registry, tmp_path, page) as url:
        page.goto(url)
        expect(page.locator("#login")).to_be_visible()
        page.fill("input[name=username]", "otto")
        page.fill("input[name=password]", "wrong password")
        page.press("input[name=password]", "Enter")
        expect(page.locator("#login-error")).to_contain_text("Wrong username or password")
        sign_in(page, url, "otto")
        expect(page.locator("#who")).to_have_text("otto · operator")
        expect(page.locator("#alarms-empty")).to_be_visible()

        now = wall_clock_ms()  # the ingester would do this: the feed brings it to the page
        registry.alarms.record(Decision(now, "M2", "micro_flow", "shutoff", {}), now)
        row = page.locator("#alarms tr[data-meter=M2]")
        expect(row).to_be_visible(timeout=5_000)
        expect(row).to_contain_text("micro_flow")
        page.screenshot(path=str(artifacts / "dashboard-alarm.png"), full_page=True)

        row.locator("button[data-action=ack]").click()
        expect(row).to_contain_text("acknowledged · otto")
        row.locator("button[data-action=clear]").click()
        dialog = page.locator("#ask-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("textarea").fill("technician found the hob tap open; closed it")
        dialog.locator("button[value=ok]").click()
        expect(page.locator("#alarms tr[data-meter=M2]")).to_have_count(0)
        page.screenshot(path=str(artifacts / "dashboard-cleared.png"), full_page=True)
    (alarm,) = registry.alarms.find(meter_id="M2")
    assert (alarm.state, alarm.acknowledged_by, alarm.cleared_by) == ("cleared", "otto", "otto")
    assert alarm.note.endswith("technician found the hob tap open; closed it")


def test_a_viewer_sees_alarms_without_the_buttons_that_change_them(
    browser: Browser, registry: Registry, tmp_path: Path
) -> None:
    now = wall_clock_ms()
    registry.alarms.record(Decision(now, "M1", "over_flow", "shutoff", {}), now)
    page = browser.new_page()
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "vera")
        row = page.locator("#alarms tr[data-meter=M1]")
        expect(row).to_be_visible()
        expect(row.locator("button")).to_have_count(1)  # only to read its notifications
        expect(row.locator("button[data-action=notices]")).to_be_visible()
        page.click("#sign-out")
        expect(page.locator("#login")).to_be_visible()


def test_the_connection_board_highlights_warnings_and_overdue_records(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    otto = Actor("otto", "operator", "test")
    now = wall_clock_ms()
    # Guangzhou, natural days from the day after acceptance to 24:00 of the last one:
    # none 5 days ago is past its deadline; B (8 days) 8 days ago ends tonight at 24:00,
    # with 7 of its 8 days used (a warning whatever the time of day); none today is on time
    for category, days_ago in (("none", 5), ("B", 8), ("none", 0)):
        new = NewApplication(
            "guangzhou",
            category,
            "online",
            "Li",
            "13900139000",
            "Haizhu 1",
            submitted_ms=now - int(days_ago * 86_400_000),
        )
        registry.connections.create(new, otto, now)
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "vera")
        rows = page.locator("#connections tbody tr")
        expect(rows).to_have_count(3)
        states = [rows.nth(i).get_attribute("class") for i in range(3)]
        assert states == ["time-overdue", "time-warning", "time-on_time"]
        expect(rows.nth(0)).to_contain_text("overdue")
        page.screenshot(path=str(artifacts / "dashboard-connections.png"), full_page=True)


def test_an_operator_closes_a_valve_from_the_meter_page_with_a_reason(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    now = wall_clock_ms()
    store = SqliteTelemetryStore(tmp_path / "live.sqlite3")
    store.write(
        [
            Reading("M2", now - i * 600_000, 100 - i / 100, 0.3 + (i % 3) / 10, 2.0)
            for i in range(30)
        ]
    )
    store.close()
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        page.locator("#meters tr[data-meter=M2]").click()
        expect(page.locator("#meter-id")).to_have_text("M2")
        expect(page.locator("#meter-facts")).to_contain_text("协议 profile cjt188")
        expect(page.locator("#chart-flow canvas")).to_have_count(1)  # uPlot's
        bar = page.locator("#consumption-bars .bar").last  # the register's 30 readings
        expect(bar).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d: \d+\.\d{3} m³$"))
        csv = page.locator("#consumption-csv")
        expect(csv).to_have_attribute("href", "/api/v1/meters/M2/consumption?by=day&format=csv")
        page.select_option("#consumption-by", "month")  # monthly bars, for billing
        month = page.locator("#consumption-bars .bar").last
        expect(month).to_have_attribute("title", re.compile(r"^\d{4}-\d\d: \d+\.\d{3} m³$"))
        expect(csv).to_have_attribute("href", "/api/v1/meters/M2/consumption?by=month&format=csv")
        expect(page.locator("#consumption-span")).to_contain_text("last year")
        page.click("#meter-actions button[data-command=close]")
        dialog = page.locator("#ask-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("button[value=ok]").click()  # no reason: the form refuses
        expect(dialog).to_be_visible()
        dialog.locator("textarea").fill("customer reports a smell of gas")
        dialog.locator("button[value=ok]").click()
        row = page.locator("#meter-commands tbody tr").first
        expect(row).to_contain_text("close")
        expect(row.locator("td.state")).to_have_text("queued")
        page.screenshot(path=str(artifacts / "dashboard-meter.png"), full_page=True)
    (command,) = registry.commands.find("M2")
    assert (command.action, command.requested_by, command.reason) == (
        "close",
        "otto",
        "customer reports a smell of gas",
    )


def test_the_content_security_policy_stops_markup_that_got_into_the_page(
    browser: Browser, registry: Registry, tmp_path: Path
) -> None:
    """Were a meter's or an operator's text ever written into the page as markup, its
    inline handler must not run: the API's CSP allows only the dashboard's own script."""
    page = browser.new_page()
    live = LiveApi(registry, tmp_path)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    try:
        page.goto(f"http://127.0.0.1:{live.port}/")
        expect(page.locator("#login")).to_be_visible()
        page.evaluate(
            """() => document.body.insertAdjacentHTML('beforeend',
                '<img id=x src="data:," onerror="window.pwned = 1">' +
                '<img id=y src="http://203.0.113.9/t.png">')"""
        )
        page.wait_for_function("() => document.getElementById('x').complete")
        wait_until(lambda: len(refused) >= 2, what="two refusals on the console")
        assert page.evaluate("() => window.pwned") is None
    finally:
        page.close()
        live.stop()
    assert any("inline event handler" in text for text in refused), refused
    assert any("203.0.113.9" in text for text in refused), refused


def test_the_dashboards_pause_reasons_are_the_apis() -> None:
    """The dashboard offers the reasons POST /connections/{id}/pause accepts: its list in
    app.js names every reason of connections/pauses.py and no other."""
    import re

    from api.app import STATIC_DIR
    from connections.pauses import PAUSE_REASONS

    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    block = re.search(r"const PAUSE_REASONS = \{(.*?)\};", script, re.S)
    assert block is not None
    assert re.findall(r"(\w+): \"", block.group(1)) == list(PAUSE_REASONS)


def test_a_close_to_a_sleeping_meter_shows_it_waits_for_the_meter_and_when(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    """A meter of the gasguard-json-wakes profile, last heard an hour ago: its close is
    queued, waiting for the meter, expected a day after that uplink."""
    now = wall_clock_ms()
    registry.meters.provision([MeterProfile("SL1", device_profile="gasguard-json-wakes")], now)
    seen = now - 3_600_000
    registry.meters.record_sightings({"SL1": MeterSighting(seen, seen, "open")})
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        page.locator("#meters tr[data-meter=SL1]").click()
        expect(page.locator("#meter-facts")).to_contain_text("协议 profile gasguard-json-wakes")
        expect(page.locator("#meter-facts")).to_contain_text("状态 life 在用 active")
        page.click("#meter-actions button[data-command=close]")
        dialog = page.locator("#ask-dialog")
        dialog.locator("textarea").fill("district leak search")
        dialog.locator("button[value=ok]").click()
        state = page.locator("#meter-commands tbody tr").first.locator("td.state")
        expect(state).to_contain_text("等待表具唤醒 waiting for the meter")
        expect(state).to_contain_text("预计 expected")
        page.screenshot(path=str(artifacts / "dashboard-sleeping-meter.png"), full_page=True)
    (command,) = registry.commands.find("SL1")
    assert command.wake_expected_ms == seen + 86_400_000


def test_an_alarm_on_late_data_shows_when_it_happened_and_when_gasguard_learned_of_it(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    now = wall_clock_ms()
    happened = now - 20 * 3_600_000 - 5 * 60_000  # a day's upload: 20 h 5 min ago
    registry.alarms.record(Decision(happened, "M1", "micro_flow", "alarm", {}), now)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        row = page.locator("#alarms tbody tr").first
        expect(row).to_contain_text("获知 learned")
        expect(row).to_contain_text("晚到 late 20 h 5 min")
        page.screenshot(path=str(artifacts / "dashboard-late-alarm.png"), full_page=True)


def test_the_meter_page_shows_which_firmware_thresholds_the_meter_holds_and_sends_them(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    """The meter confirmed a download of two thresholds; one has been changed since: the
    page marks it, and a supervisor sends the configured ones again."""
    now = wall_clock_ms()
    sam = Actor("sam", "supervisor", "test")
    add_user(registry, "sam", "supervisor", now)
    registry.meters.set_thresholds(
        "M1", Thresholds(micro_flow_m3h=0.02, over_flow_m3h=4.0), sam, "fit", now
    )
    first = download_command(Thresholds(), registry.meters.get("M1"), "first fit")
    command, _ = registry.commands.create(first, sam, now, 3_600_000)
    registry.commands.mark_published(command.id, now, now + 20_000, None, None)
    key = registry.commands.meter_keys(["M1"])["M1"]
    registry.commands.apply_reply(sign_reply(key, CommandReply(command.id, "M1", "done", now)), now)
    registry.meters.set_thresholds(
        "M1", Thresholds(micro_flow_m3h=0.02, over_flow_m3h=6.0), sam, "a bigger flat", now
    )
    page = browser.new_page(viewport={"width": 1600, "height": 1600})
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "sam")
        page.locator("#meters tr[data-meter=M1]").click()
        table = page.locator("#meter-thresholds tbody")
        expect(table.locator("tr")).to_have_count(2)
        expect(table.locator("tr.differs")).to_contain_text("过流 over-flow m³/h")
        expect(table.locator("tr.differs")).to_contain_text("✗ 不一致 differs")
        expect(table.locator("tr").first).to_contain_text("✓ 一致 matches")
        expect(page.locator("#thresholds-summary")).to_contain_text("1 项不一致 differ")
        page.click("#send-thresholds")
        dialog = page.locator("#ask-dialog")
        dialog.locator("textarea").fill("over-flow for the new flat")
        dialog.locator("button[value=ok]").click()
        expect(page.locator("#thresholds-summary")).to_contain_text("下发 download queued")
        page.screenshot(path=str(artifacts / "dashboard-thresholds.png"), full_page=True)
    newest = registry.commands.find("M1", action="params", limit=1)[0]
    assert newest.id != command.id and newest.requested_by == "sam"
    assert newest.params == '{"micro_flow_m3h":0.02,"over_flow_m3h":6.0}'


def test_an_operator_sees_the_thresholds_without_the_send_button(
    browser: Browser, registry: Registry, tmp_path: Path
) -> None:
    page = browser.new_page()
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        page.locator("#meters tr[data-meter=M1]").click()
        expect(page.locator("#thresholds-summary")).to_contain_text("未配置 none configured")
        expect(page.locator("#send-thresholds")).to_be_hidden()


def test_a_meters_life_is_recorded_from_its_page_and_shown_as_its_history(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    """From the factory's file to a replacement: each step recorded in the dialog (only
    the steps that can follow, the fields each needs), each in the meter's history."""
    now = wall_clock_ms()
    add_user(registry, "sam", "supervisor", now)
    delivery = (
        b"meter_id,model,profile,imei\n"
        b"NB1,G2.5,gasguard-json,868000000000001\nNB2,G2.5,gasguard-json,868000000000019\n"
    )
    actor = Actor("sam", "supervisor", "test")
    models = tuple(default_models())
    report = import_delivery(registry.meters, delivery, "d.csv", models, BUILT_IN, actor, now)
    assert report.created == ("NB1", "NB2"), report.errors
    page = browser.new_page(viewport={"width": 1600, "height": 1800})

    def step(step: str, reason: str, then: str, **fields: str) -> None:
        page.click("#life-step-button")
        dialog = page.locator("#life-dialog")
        dialog.locator("#life-step").select_option(step)
        for name, value in fields.items():
            dialog.locator(f"[name={name}]").fill(value)
        dialog.locator("textarea[name=reason]").fill(reason)
        dialog.locator("button[value=ok]").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#meter-facts")).to_contain_text(then)

    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "sam")
        page.locator("#meters tr[data-meter=NB1]").click()
        expect(page.locator("#meter-facts")).to_contain_text("库存 in stock")
        page.click("#life-step-button")
        options = page.locator("#life-step option")
        expect(options).to_have_count(1)  # from stock, only an installation
        expect(page.locator("#life-dialog [name=installer]")).to_be_visible()
        expect(page.locator("#life-dialog [name=new_meter_id]")).to_be_hidden()
        page.click("#life-cancel")
        step("install", "work order 7", "已安装 installed", installer="li", location="函谷路 8 号")
        step("commission", "first uplink checked by hand", "已调试 commissioned")
        step("activate", "customer signed", "在用 active")
        swap = {"register_m3": "123.4", "new_meter_id": "NB2", "new_register_m3": "0.2"}
        step("replace", "broken display", "已更换 replaced", **swap)
        history = page.locator("#meter-history tbody tr")
        expect(history).to_have_count(5)
        expect(history.first).to_contain_text("更换 replaced")
        expect(history.first).to_contain_text("新表 new NB2 (0.2 m³)")
        expect(history.last).to_contain_text("入库 imported")
        expect(page.locator("#meter-history")).to_contain_text("安装 li")
        page.screenshot(path=str(artifacts / "dashboard-meter-life.png"), full_page=True)
    assert registry.meters.get("NB2").lifecycle == "installed"
    assert registry.meters.get("NB1").register_end_m3 == 123.4


def test_an_alarms_notifications_show_each_channel_and_its_answer(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    now = wall_clock_ms()
    alarm, _ = registry.alarms.record(Decision(now, "M1", "leak_detector", "shutoff", {}), now)
    registry.notifications.enqueue(alarm.id, ["soc", "oncall-sms"], now)
    soc, sms = registry.notifications.for_alarm(alarm.id)
    registry.notifications.record(soc.id, True, "HTTP 204: ", now + 300, None)
    refused = 'HTTP 200: {"errcode":310000,"errmsg":"sign not match"}'
    registry.notifications.record(sms.id, False, refused, now + 300, None)
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "vera")
        page.locator("#alarms tr[data-meter=M1] button[data-action=notices]").click()
        dialog = page.locator("#notices-dialog")
        expect(dialog).to_be_visible()
        rows = dialog.locator("#notices tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("已送达 sent")
        expect(rows.last).to_contain_text("失败 failed")
        expect(rows.last).to_contain_text("sign not match")
        page.screenshot(path=str(artifacts / "dashboard-notifications.png"))
        page.click("#notices-close")
        expect(dialog).to_be_hidden()


def test_the_meter_charts_have_local_time_zoom_pan_and_the_alarm_and_command_marks(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    now = wall_clock_ms()
    store = SqliteTelemetryStore(tmp_path / "live.sqlite3")
    store.write(
        [
            Reading("M1", now - i * 300_000, 200 - i / 50, 0.2 + (i % 5) / 20, 1.8 + (i % 4) / 10)
            for i in range(60)  # five hours, every five minutes
        ]
    )
    store.close()
    opened = now - 2 * 3_600_000
    registry.alarms.record(Decision(opened, "M1", "pressure_low", "shutoff", {}), now)
    otto = Actor("otto", "operator", "test")
    close, _ = registry.commands.create(
        NewCommand("M1", "close", "pressure low"), otto, now, 3_600_000
    )
    registry.commands.mark_published(close.id, now - 3_600_000, now + 20_000, None, None)
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1600, "height": 1400})
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "otto")
        page.locator("#meters tr[data-meter=M1]").click()
        flow = page.locator("#chart-flow")
        expect(flow.locator("canvas")).to_have_count(1)
        expect(flow.locator(".u-legend")).to_contain_text("流量 flow m³/h")
        expect(flow.locator(".u-legend")).to_contain_text("压力 pressure kPa")
        expect(flow).to_have_attribute("data-marks", "2")  # the alarm and the command
        full = int(flow.get_attribute("data-xmax")) - int(flow.get_attribute("data-xmin"))
        box = flow.locator(".u-over").bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        when = flow.locator(".u-legend .u-series").first.locator(".u-value")
        expect(when).to_contain_text(re.compile(r"\d{1,2}:\d\d"))  # the cursor's local time
        page.mouse.wheel(0, -300)  # zoom in about the cursor
        page.wait_for_function(
            "full => { const b = document.getElementById('chart-flow');"
            " return b.dataset.xmax - b.dataset.xmin < full; }",
            arg=full,
        )
        zoomed_min = int(flow.get_attribute("data-xmin"))
        flow.focus()
        page.keyboard.press("ArrowRight")  # pan later
        page.wait_for_function(
            "m => Number(document.getElementById('chart-flow').dataset.xmin) > m", arg=zoomed_min
        )
        page.screenshot(path=str(artifacts / "dashboard-charts.png"), full_page=True)
        flow.locator(".u-over").dblclick()  # everything again
        page.wait_for_function(
            "full => { const b = document.getElementById('chart-flow');"
            " return b.dataset.xmax - b.dataset.xmin >= full; }",
            arg=full,
        )
    assert not [e for e in errors if "Content Security Policy" in e or "uPlot" in e], errors


def test_the_area_view_colours_each_district_by_its_worst_alarm_and_drills_down(
    browser: Browser, registry: Registry, tmp_path: Path, artifacts: Path
) -> None:
    now = wall_clock_ms()
    delivery = (
        "meter_id,model,profile,imei,district,street,pressure_zone\n"
        "TH1,G2.5,gasguard-json,868000000000001,天河区,体育西路,RS-07\n"
        "TH2,G2.5,gasguard-json,868000000000019,天河区,天河路,RS-07\n"
        "YX1,G2.5,gasguard-json,868000000000027,越秀区,中山五路,RS-02\n"
    ).encode()
    actor = Actor("sam", "supervisor", "test")
    report = import_delivery(
        registry.meters, delivery, "d.csv", tuple(default_models()), BUILT_IN, actor, now
    )
    assert report.created == ("TH1", "TH2", "YX1"), report.errors
    registry.alarms.record(Decision(now, "TH1", "pressure_low", "shutoff", {}), now)
    registry.alarms.record(Decision(now, "YX1", "tamper", "alarm", {}), now)
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    with serving(registry, tmp_path, page) as url:
        sign_in(page, url, "vera")
        page.keyboard.press("6")
        tiles = page.locator("#areas .area")
        expect(tiles).to_have_count(3)  # two districts and the meters nobody placed
        expect(tiles.first).to_have_attribute("data-area", "天河区")  # the worst first
        expect(tiles.first).to_have_class(re.compile("worst-critical"))
        expect(page.locator('#areas .area[data-area="越秀区"]')).to_have_class(
            re.compile("worst-warning")
        )
        tiles.first.click()
        meters = page.locator("#area-meters tbody tr")
        expect(meters).to_have_count(2)
        expect(page.locator("#area-meters")).to_contain_text("体育西路")
        page.screenshot(path=str(artifacts / "dashboard-areas.png"), full_page=True)
        page.select_option("#areas-by", "pressure_zone")
        expect(page.locator('#areas .area[data-area="RS-07"]')).to_have_class(
            re.compile("worst-critical")
        )
        page.locator('#areas .area[data-area="RS-02"]').click()
        expect(page.locator("#area-meters tbody tr")).to_have_count(1)
        page.locator("#area-meters tbody tr").first.click()
        expect(page.locator("#meter-id")).to_have_text("YX1")
