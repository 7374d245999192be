"""The compiled core reads rule and valve codes as literal constants; they must match the
tables the edge translates with."""

from __future__ import annotations

from safety import codes
from safety.details import DETAILS


def test_the_literal_rule_codes_match_the_rule_table() -> None:
    for code, rule in enumerate(codes.RULE_IDS):
        assert getattr(codes, rule.upper()) == code == codes.RULE_CODE[rule]


def test_valve_and_event_codes_round_trip() -> None:
    assert codes.VALVES[codes.VALVE_OPEN] == "open"
    assert codes.VALVES[codes.VALVE_CLOSED] == "closed"
    assert codes.VALVE_NONE == 0 and codes.VALVES[0] == ""
    for name, code in codes.EVENT_CODE.items():
        assert codes.EVENTS[code] == name
    tamper = {codes.EVENTS[code] for code in codes.TAMPER_EVENT_CODES}
    assert tamper == {"tamper", "tilt", "magnet", "cover_open"}


def test_every_rule_has_a_detail_builder() -> None:
    assert set(DETAILS) == set(codes.RULE_IDS)
