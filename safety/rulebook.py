"""Every table of the rules, derived from the rule modules (``safety/rules/__init__.py``):
rule ids and codes, configuration sections, the parameter record the compiled steps read,
the packed state per meter, the decision row. Pure values, checked at import: a rule
module that does not fit (a code taken twice, a field or parameter named twice, more rules
than a meter's ``open_rules`` can hold) is a ``RulebookError`` naming it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from safety import quality
from safety.errors import SafetyError
from safety.layout import CORE_FIELDS, Field, blank, decision_dtype, open_rules_field, state_dtype
from safety.rule import Param, Rule, RuleUnit
from safety.rules import UNITS


class RulebookError(SafetyError):
    """The rule modules do not fit together (a programming error, found at import)."""


def _twice(names: Iterable[str]) -> list[str]:
    return sorted(name for name, n in Counter(names).items() if n > 1)


MAX_RULES = 64  # bits of the widest open_rules (layout.open_rules_field)


def rules_of(units: tuple[RuleUnit, ...]) -> tuple[Rule, ...]:
    """The rules of ``units``, by code."""
    return tuple(sorted((rule for unit in units for rule in unit.rules), key=lambda r: r.code))


def params_of(units: tuple[RuleUnit, ...]) -> tuple[Param, ...]:
    return (*quality.PARAMS, *(param for unit in units for param in unit.params))


def fields_of(units: tuple[RuleUnit, ...]) -> tuple[Field, ...]:
    """The packed record's fields: the kernel's own and the units', ``open_rules`` aside."""
    return (*CORE_FIELDS, *(f for unit in units for f in unit.state))


RULES = rules_of(UNITS)
RULE_IDS = tuple(rule.id for rule in RULES)
RULE_CODE = {rule.id: rule.code for rule in RULES}

SECTIONS: dict[str, type] = {
    **{name: kind for unit in UNITS for name, kind in unit.sections.items()},
    quality.SECTION: quality.DataQualityConfig,
}
PARAMS = params_of(UNITS)
PARAMS_DTYPE = np.dtype([(param.name, "<f8") for param in PARAMS])

STATE_FIELDS = (
    *fields_of(UNITS),
    open_rules_field(min(len(RULES), MAX_RULES)),  # more: problems() says so
)
STATE = state_dtype(STATE_FIELDS)
CATEGORY_FIELDS = tuple(f for f in STATE_FIELDS if f.per_category)  # engine.set_profiles
DETAIL_NUMBERS = max(rule.numbers for rule in RULES)
DECISION = decision_dtype(DETAIL_NUMBERS)


def blank_states(count: int) -> np.ndarray:
    """``count`` records for meters never seen, with the default profile."""
    return blank(STATE, STATE_FIELDS, count)


def problems(units: tuple[RuleUnit, ...] = UNITS) -> list[str]:
    """What does not fit among ``units``; empty when they fit together."""
    rules = rules_of(units)
    found = []
    codes = [rule.code for rule in rules]
    if codes != list(range(len(rules))):
        found.append(f"rule codes must be 0..{len(rules) - 1}, each once: {codes}")
    if len(rules) > MAX_RULES:
        found.append(f"{len(rules)} rules: a meter's open_rules holds at most {MAX_RULES}")
    sections = [name for unit in units for name in unit.sections] + [quality.SECTION]
    for kind, names in (
        ("rule id", [rule.id for rule in rules]),
        ("configuration section", sections),
        ("parameter", [param.name for param in params_of(units)]),
        ("state field", [f.name for f in fields_of(units)] + ["open_rules"]),
        ("unit", [unit.name for unit in units]),
    ):
        found += [f"{kind} {name!r} is declared twice" for name in _twice(names)]
    for unit in units:
        for rule in unit.rules:
            if rule.section not in unit.sections:
                found.append(f"{rule.id}: section {rule.section!r} is not {unit.name}'s")
        for param in unit.params:
            if param.section not in unit.sections:
                found.append(f"{param.name}: section {param.section!r} is not {unit.name}'s")
        if unit.judges_new_baseline and unit.step is None:
            found.append(f"{unit.name}: judges a new baseline but has no step")
    return found


_found = problems()
if _found:
    raise RulebookError("; ".join(_found))
