"""The indicator table (pure)."""

from __future__ import annotations

import datetime as dt

from connections.applications import ApplicationView, PauseView
from connections.indicators import indicator_rows, to_csv
from connections.timelimits import BUILT_IN, LOCAL
from connections.workdays import WorkCalendar

DAY = 86_400_000
T0 = int(dt.datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL).timestamp() * 1000)  # Monday 09:00


def app(number: str, policy: str, category: str, days: float, **extra: object) -> ApplicationView:
    fields: dict[str, object] = {
        "id": 1,
        "number": number,
        "policy": policy,
        "category": category,
        "channel": "online",
        "applicant": "x",
        "phone": "13800000000",
        "address": "y",
        "district": "",
        "submitted_ms": T0,
        "surveyed_ms": None,
        "gas_on_ms": T0 + int(days * DAY),
        "meter_id": None,
        "fee_application": 0.0,
        "fee_gas_on": 0.0,
        "state": "done",
        "pauses": (),
    }
    fields.update(extra)
    return ApplicationView(**fields)  # type: ignore[arg-type]


def test_rows_per_policy_and_category_with_days_share_and_fees() -> None:
    applications = [
        app("GZ1", "guangzhou", "none", 2),
        app("GZ2", "guangzhou", "none", 4, fee_gas_on=200.0),  # late, and charged
        app("GZ3", "guangzhou", "B", 7),
        app("LB1", "lingbao", "A", 6, pauses=(PauseView(1, T0 + DAY, T0 + 5 * DAY, "design"),)),
        app("OUT", "guangzhou", "none", 40),  # gas-on after the period
    ]
    rows = indicator_rows(applications, BUILT_IN, WorkCalendar(), T0, T0 + 30 * DAY)
    by_key = {(r.policy, r.category): r for r in rows}
    gz_none = by_key[("guangzhou", "none")]
    assert (gz_none.completed, gz_none.within_limit, gz_none.share_within_limit) == (2, 1, 0.5)
    assert (gz_none.natural_days_median, gz_none.natural_days_max) == (3.0, 4.0)
    assert gz_none.fees_charged == ("GZ2",)
    assert by_key[("guangzhou", "all")].completed == 3
    lingbao = by_key[("lingbao", "A")]
    # 6 natural days; working days without the 4-day design pause: Mon 09:00 to Tue 09:00
    # and Sat 09:00 to Sun 09:00 of a normal weekend -> 1 working day.
    assert (lingbao.natural_days_max, lingbao.working_days_max, lingbao.within_limit) == (
        6.0,
        1.0,
        1,
    )
    text = to_csv(rows)
    assert text.splitlines()[0].startswith("policy,category,stages,completed")
    assert "GZ2" in text
