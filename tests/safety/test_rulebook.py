"""Every rule module is wired and fits: the tables derived from the rule modules
(``safety.rulebook``) are complete, the codes are the ones snapshots hold, and a module
that does not fit is refused with its name."""

from __future__ import annotations

import dataclasses
import pkgutil

import pytest

import safety.rules
from safety import codes, rulebook
from safety.codes import ACTIONS, CATEGORIES
from safety.config import RulesConfig
from safety.layout import open_rules_field
from safety.params import compile_params
from safety.rule import Param, Rule, RuleUnit
from safety.rules import UNITS

# Snapshots keep open episodes as bits by code: a code, once given, never changes.
CODES = {
    "over_flow": 0,
    "micro_flow": 1,
    "leak_detector": 2,
    "sudden_increase": 3,
    "prolonged_use": 4,
    "no_flow_gap": 5,
    "pressure_low": 6,
    "pressure_high": 7,
    "flow_while_closed": 8,
    "seismic": 9,
    "tamper": 10,
    "low_battery": 11,
    "offline": 12,
    "reopen_flow": 13,
}
HELPERS = {"episodes"}  # modules of safety/rules that are not rules


def test_the_rule_codes_are_the_ones_snapshots_hold() -> None:
    assert rulebook.RULE_CODE == CODES
    assert tuple(CODES) == rulebook.RULE_IDS
    assert rulebook.problems() == []


def test_every_module_in_the_rules_package_is_in_the_list_of_rules() -> None:
    modules = {m.name for m in pkgutil.iter_modules(safety.rules.__path__)} - HELPERS
    listed = {unit.step.__module__.rsplit(".", 1)[1] for unit in UNITS if unit.step}
    listed |= {unit.on_event.__module__.rsplit(".", 1)[1] for unit in UNITS if unit.on_event}
    listed |= {unit.name for unit in UNITS if not unit.step and not unit.on_event}  # offline
    assert modules == listed
    for name in modules:
        module = getattr(safety.rules, name)
        assert module.UNIT in UNITS, f"safety/rules/{name}.py is not in safety.rules.UNITS"


def test_every_rule_reads_its_configuration_and_builds_a_detail() -> None:
    config = RulesConfig()
    params = compile_params(config)
    for param in rulebook.PARAMS:
        assert isinstance(params.record[0][param.name].item(), float), param.name
    for rule in rulebook.RULES:
        section = config.section(rule.section)
        assert dataclasses.is_dataclass(section)
        for category in CATEGORIES:
            assert ACTIONS[params.actions[CATEGORIES.index(category), rule.code]] in ACTIONS
        assert 1 <= rule.numbers <= rulebook.DETAIL_NUMBERS
        detail = rule.detail([1.0] * rule.numbers, section, "residential")  # band 1, event 1
        assert detail and all(isinstance(key, str) for key in detail), rule.id


def test_the_configured_action_of_each_rule_reaches_the_kernel_per_category() -> None:
    config = RulesConfig.from_mapping(
        {"pressure": {"action": "alarm"}, "micro_flow": {"action": {"commercial": "alarm"}}}
    )
    actions = compile_params(config).actions
    alarm, shutoff = codes.ACTION_CODE["alarm"], codes.ACTION_CODE["shutoff"]
    for rule in ("pressure_low", "pressure_high"):
        assert set(actions[:, CODES[rule]]) == {alarm}
    micro = [actions[CATEGORIES.index(c), CODES["micro_flow"]] for c in CATEGORIES]
    assert micro == [shutoff, alarm, shutoff]  # a category left out: the safe side


def test_the_ceilings_follow_the_rules() -> None:
    assert rulebook.STATE["open_rules"] == open_rules_field(len(CODES)).dtype
    assert [open_rules_field(n).dtype for n in (8, 9, 16, 17, 33, 64)] == [
        "u1", "<u2", "<u2", "<u4", "<u8", "<u8"
    ]  # fmt: skip
    with pytest.raises(ValueError):
        open_rules_field(65)
    assert rulebook.DECISION["x"].shape == (max(r.numbers for r in rulebook.RULES),)


def _unit(name: str, code: int, section: str = "s", **more: object) -> RuleUnit:
    @dataclasses.dataclass(frozen=True)
    class Section:
        limit: float = 1.0

    rule = Rule(name, code, section, lambda c: "alarm", 1, lambda x, c, k: {"x": x[0]})
    return RuleUnit(name=name, rules=(rule,), sections={section: Section}, **more)  # type: ignore[arg-type]


def test_a_rule_module_that_does_not_fit_is_named() -> None:
    fine = (*UNITS, _unit("new_rule", len(CODES), "new_rule"))
    assert rulebook.problems(fine) == []
    assert rulebook.problems((*UNITS, _unit("late", len(CODES) + 1, "late"))) == [
        f"rule codes must be 0..{len(CODES)}, each once: {[*range(len(CODES)), len(CODES) + 1]}"
    ]
    taken = rulebook.problems((*UNITS, _unit("again", CODES["tamper"], "again")))
    assert any("rule codes" in p for p in taken)
    twice = rulebook.problems((*UNITS, _unit("over_flow", len(CODES), "over_flow")))
    assert "rule id 'over_flow' is declared twice" in twice
    assert "configuration section 'over_flow' is declared twice" in twice
    param = Param("backing_ratio", "p2", lambda c: c.limit)
    clash = rulebook.problems((*UNITS, _unit("p2", len(CODES), "p2", params=(param,))))
    assert clash == ["parameter 'backing_ratio' is declared twice"]
    many = tuple(_unit(f"r{k}", k, f"s{k}") for k in range(65))
    assert "65 rules: a meter's open_rules holds at most 64" in rulebook.problems(many)


def test_valve_and_event_codes_round_trip() -> None:
    assert codes.VALVES[codes.VALVE_OPEN] == "open"
    assert codes.VALVES[codes.VALVE_CLOSED] == "closed"
    assert codes.VALVE_NONE == 0 and codes.VALVES[0] == ""
    for name, code in codes.EVENT_CODE.items():
        assert codes.EVENTS[code] == name
    tamper = {codes.EVENTS[code] for code in codes.TAMPER_EVENT_CODES}
    assert tamper == {"tamper", "tilt", "magnet", "cover_open"}
