"""The safety rules, one module each (``safety.rule.RuleUnit``), in the order the kernel
runs them on every reading and event: the order of decisions one input causes.

A new rule is a new module here and its line below; ``safety.rulebook`` derives the rest.
"""

from safety.rule import RuleUnit
from safety.rules import (
    event_rules,
    flow_while_closed,
    low_battery,
    micro_flow,
    no_flow_gap,
    offline,
    over_flow,
    pressure,
    prolonged_use,
    reopen_watch,
    sudden_increase,
)

UNITS: tuple[RuleUnit, ...] = (
    over_flow.UNIT,
    micro_flow.UNIT,
    sudden_increase.UNIT,
    prolonged_use.UNIT,
    reopen_watch.UNIT,
    no_flow_gap.UNIT,
    flow_while_closed.UNIT,
    low_battery.UNIT,
    pressure.UNIT,
    event_rules.UNIT,
    offline.UNIT,
)
