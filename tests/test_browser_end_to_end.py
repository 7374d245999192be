"""The control room in a real browser over the real system: simulated meters publish to
Mosquitto, `gasguard ingest` stores and judges them, the API serves the dashboard.

An operator signs in, watches a leak alarm arrive live (and the valve shut), closes
another meter's valve with a reason and sees the command reach ``succeeded`` (the
simulated meter checked the signature, obeyed, and its telemetry confirmed it), and sees a
connection record turn overdue."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Browser, expect

from connections.applications import NewApplication
from connections.timelimits import day_start_ms, local_date
from gasguard import wiring
from gasguard.servers import MosquittoServer
from meters.views import Actor
from simulators.fleet import build_fleet
from telemetry import SqliteTelemetryStore
from tests.api.conftest import PASSWORD, LiveApi, add_user
from tests.conftest import sqlite_registry
from tests.helpers import one_leak_fleet, settings_for, start_ingester

DAY = 86_400_000


def test_an_operator_works_the_dashboard_over_the_live_system(
    mosquitto: MosquittoServer, browser: Browser, tmp_path: Path, artifacts: Path
) -> None:
    simulator = one_leak_fleet(4, "UI", leak_after_s=6.0)
    # a city whose time left out moves its deadline (natural days, one day): paused so that
    # its deadline falls 12 s from now, it turns from warning to overdue while we watch
    city = {"unit": "natural", "excludes_pauses": True, "days": {"none": 1, "A": 1, "B": 1}}
    settings = settings_for(
        mosquitto.url, tmp_path, simulator=simulator, connection_policies={"watched": city}
    )
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    now = time.time_ns() // 1_000_000
    plan = build_fleet(settings.simulator, now)
    wiring.provision_fleet(registry, plan, now)
    ((leaky, _kind, _start),) = plan.labels
    healthy = next(m.meter_id for m in plan.meters if m.meter_id != leaky)
    add_user(registry, "otto", "operator", now)
    accepted = now - 3 * DAY  # day 1 is the day after; it ended at 24:00
    day_one = day_start_ms(local_date(accepted)) + DAY
    new = NewApplication(
        "watched", "none", "online", "Chen", "13800138000", "Tianhe 1", submitted_ms=accepted
    )
    clerk = Actor("otto", "operator", "test")
    application = registry.connections.create(new, clerk, now)
    registry.connections.pause(application.id, clerk, "construction", day_one)
    paused_for = now + 12_000 - (day_one + DAY)  # the deadline moves by the pause: to now + 12 s
    registry.connections.resume(application.id, clerk, day_one + paused_for)
    ingester = start_ingester(settings, registry, store)
    runner = wiring.build_fleet_runner(settings, plan)
    runner.start()
    live = LiveApi(registry, tmp_path, store, wiring.connection_policies(settings))
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    try:
        page.goto(f"http://127.0.0.1:{live.port}/")
        page.fill("input[name=username]", "otto")
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        expect(page.locator("#who")).to_have_text("otto · operator")
        connection = page.locator("#connections tbody tr").first
        expect(connection).to_have_class("time-warning")

        leak = page.locator(f"#alarms tr[data-meter={leaky}]")
        expect(leak).to_contain_text("leak_detector", timeout=30_000)  # arrives live
        expect(page.locator(f"#meters tr[data-meter={leaky}] td.valve-closed")).to_be_visible(
            timeout=30_000
        )
        expect(connection).to_have_class("time-overdue", timeout=30_000)
        page.screenshot(path=str(artifacts / "live-overview.png"), full_page=True)

        page.locator(f"#meters tr[data-meter={healthy}]").click()
        expect(page.locator("#meter-id")).to_have_text(healthy)
        page.click("#meter-actions button[data-command=close]")
        page.locator("#ask-dialog textarea").fill("maintenance on the riser")
        page.locator("#ask-dialog button[value=ok]").click()
        state = page.locator("#meter-commands tbody tr").first.locator("td.state")
        expect(state).to_have_text("succeeded", timeout=30_000)
        page.screenshot(path=str(artifacts / "live-meter-closed.png"), full_page=True)
    finally:
        page.close()
        live.stop()
        runner.stop()
        ingester.stop()
        store.close()
    assert runner.meter(healthy).valve == "closed"
    (command,) = registry.commands.find(healthy)
    assert (command.requested_by, command.reason) == ("otto", "maintenance on the riser")
