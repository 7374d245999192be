"""Fees against the published list (pure: no fixtures)."""

from __future__ import annotations

from connections.fees import FeeCharge, fee_problems

LIST = {"indoor_installation": 300.0, "external_pipe_per_m": 120.0}


def test_application_and_gas_on_are_free_whatever_the_list_says() -> None:
    problems = fee_problems(
        {**LIST, "application": 50.0}, [FeeCharge("application", 50), FeeCharge("gas_on", 1)]
    )
    assert [(p.item, "free" in p.why) for p in problems] == [
        ("application", True),
        ("gas_on", True),
    ]


def test_nothing_off_the_list_and_nothing_above_its_price() -> None:
    charges = [
        FeeCharge("indoor_installation", 300),  # at the price: fine
        FeeCharge("external_pipe_per_m", 150),  # above it
        FeeCharge("survey", 80),  # not on the list
        FeeCharge("survey", 0),  # nothing charged
    ]
    problems = fee_problems(LIST, charges)
    assert [(p.item, p.amount) for p in problems] == [("external_pipe_per_m", 150), ("survey", 80)]
    assert "published price of 120" in problems[0].why
    assert "not on the published fee list" in problems[1].why
    assert fee_problems(LIST, [FeeCharge("application", 0), FeeCharge("gas_on", 0)]) == []
