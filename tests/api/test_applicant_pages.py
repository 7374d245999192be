"""The applicant's side in the real browser at a phone's viewport (Playwright, Chromium):
the progress lookup by number and query code, with the stages as a timeline, the deadline
and what is missing, and the service guide from the configuration."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from connections.applications import NewApplication
from meters.clock import wall_clock_ms
from meters.views import Actor
from tests.api.conftest import serving
from tests.conftest import sqlite_registry

PHONE = {"width": 390, "height": 844}  # a common phone, CSS pixels
DAY = 86_400_000


def test_an_applicant_looks_up_progress_on_a_phone(
    browser: Browser, tmp_path: Path, artifacts: Path
) -> None:
    registry = sqlite_registry(tmp_path)
    now = wall_clock_ms()
    clerk = Actor("otto", "operator", "test")
    new = NewApplication(
        "lingbao",
        "none",
        "counter",
        "王先生",
        "13712345678",
        "灵宝市 函谷路 8 号",
        submitted_ms=now - DAY,
        missing_documents=("房产证 property certificate",),
        documents_due_ms=now + 2 * DAY,
    )
    application = registry.connections.create(new, clerk, now - DAY)
    registry.connections.surveyed(application.id, clerk, now - DAY // 2)
    assert application.query_code is not None
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    with serving(registry, tmp_path, page) as url:
        page.goto(url + "progress")
        expect(page.locator("#g-limits")).to_contain_text("用气报装 → 验收通气")  # Guangzhou's
        expect(page.locator("#g-fees")).to_contain_text("报装、通气免费")
        page.select_option("#guide-policy", "lingbao")
        expect(page.locator("#g-limits")).to_contain_text("受理勘查 → 验收开通")  # Lingbao's names
        expect(page.locator("#g-limits")).to_contain_text("2 个工作日")
        page.select_option("#guide-policy", "guangzhou")
        page.fill("input[name=number]", application.number)
        page.fill("input[name=code]", "0000-0000-0000")
        page.click("#lookup button")
        expect(page.locator("#lookup-error")).to_contain_text("not found")
        page.fill("input[name=code]", application.query_code.lower())  # typed leniently
        page.click("#lookup button")
        expect(page.locator("#progress")).to_be_visible()
        expect(page.locator("#p-number")).to_have_text(application.number)
        steps = page.locator("#p-timeline li")
        expect(steps).to_have_count(4)
        expect(steps.nth(1)).to_contain_text("受理勘查完成")
        expect(steps.nth(1)).to_have_class("done")
        expect(steps.nth(3)).to_have_class("pending")
        expect(page.locator("#p-deadline")).to_contain_text("24:00")
        expect(page.locator("#p-documents")).to_contain_text("房产证 property certificate")
        expect(page.locator("#g-limits")).to_contain_text("受理勘查")  # the guide follows
        assert "王先生" not in page.content() and "13712345678" not in page.content()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # no sideways scrolling on a phone
        page.screenshot(path=str(artifacts / "applicant-progress-phone.png"), full_page=True)


def test_an_applicant_applies_online_with_a_document_to_follow_and_gets_a_receipt(
    browser: Browser, tmp_path: Path, artifacts: Path
) -> None:
    """一表申请 on a phone: 容缺 allowed (the property certificate follows), the receipt's
    code opens the progress page; a fourth application from the same address within the
    hour is refused (three an hour)."""
    registry = sqlite_registry(tmp_path)
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    with serving(registry, tmp_path, page) as url:
        page.goto(url + "progress")
        expect(page.locator("#apply-missing label")).to_have_count(2)  # the guide's materials
        form = page.locator("#apply-form")
        form.locator("select[name=policy]").select_option("lingbao")
        form.locator("input[name=applicant]").fill("王先生")
        form.locator("input[name=phone]").fill("13712345678")
        form.locator("input[name=address]").fill("灵宝市 函谷路 8 号")
        page.locator("#apply-missing label").nth(1).click()  # 房产证明 to follow
        form.locator("button[type=submit]").click()
        expect(page.locator("#receipt")).to_be_visible()
        number, code = page.locator("#r-number").inner_text(), page.locator("#r-code").inner_text()
        expect(page.locator("#r-missing")).to_contain_text("房产证明")
        page.screenshot(path=str(artifacts / "applicant-apply-phone.png"), full_page=True)
        page.fill("input[name=number]", number)
        page.fill("input[name=code]", code)
        page.click("#lookup button")
        expect(page.locator("#p-documents")).to_contain_text("房产证明")
    (application,) = registry.connections.find()
    assert (application.number, application.channel, application.policy) == (
        number,
        "online",
        "lingbao",
    )
    assert application.missing_documents and application.documents_due_ms is not None
    entry = next(e for e in registry.audit.entries() if e.action == "connection.create")
    assert (entry.actor, entry.source) == ("applicant", "127.0.0.1")


def test_online_applications_are_limited_per_address_and_refuse_bad_fields(
    tmp_path: Path,
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from telemetry import SqliteTelemetryStore
    from tests.api.conftest import api_context

    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "t.sqlite3")
    form = {
        "policy": "guangzhou",
        "category": "none",
        "applicant": "陈小姐",
        "address": "天河区 1 号",
    }
    with TestClient(create_app(api_context(registry, store, wall_clock_ms))) as client:
        bad = client.post(
            "/api/v1/public/applications",
            json={**form, "phone": "13800000000", "category": "A", "pipe_length_m": 300},
        )
        assert bad.status_code == 422
        assert [d["loc"][-1] for d in bad.json()["detail"]] == ["pipe_length_m", "affects_others"]
        answers = [
            client.post("/api/v1/public/applications", json={**form, "phone": f"1380000000{n}"})
            for n in range(1, 5)
        ]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]  # three an hour
        assert "retry-after" in answers[3].headers
    store.close()
