"""What a module of ``safety/rules/`` declares: everything one rule is, in one place.

A rule module ends with ``UNIT = RuleUnit(...)``: the rules it raises (id, code, action,
the numbers its decision carries and the ``detail`` built from them), its configuration
tables (TOML sections, as frozen dataclasses whose defaults are DESIGN.md's table), the
parameters it reads from them, the fields it keeps per meter, and its compiled steps.
``safety.rulebook`` derives every table from the list in ``safety/rules/__init__.py``:
rule codes and ids, the configuration's sections, the parameter record, the packed state,
the decision row. Pure values; nothing here compiles.

A step reads its parameters by name from the parameter record (``t.p.micro_floor``), its
action from ``t.actions[s.category, CODE]`` and its state from the meter's record
(``s.micro_ts``); it reports with ``episodes.fire``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contract.decisions import Action
from safety.layout import Field

Detail = Callable[[Sequence[float], Any, str], dict[str, Any]]
# arguments: the decision's numbers, the rule's configuration section, the meter's category


@dataclass(frozen=True)
class Param:
    """A number the compiled steps read, from one configuration section (as float64)."""

    name: str
    section: str
    value: Callable[[Any], float]


@dataclass(frozen=True)
class Rule:
    """One rule id that alarms. ``code`` is its bit in a meter's ``open_rules`` and is kept
    forever (snapshots hold open episodes by code): a new rule takes the next free code."""

    id: str
    code: int
    section: str
    action: Callable[[Any], Action | Mapping[str, Action]]  # one, or one per category
    numbers: int  # how many numbers its decisions carry (``episodes.fire``)
    detail: Detail


@dataclass(frozen=True)
class RuleUnit:
    """One module of ``safety/rules/``.

    Steps (compiled; each optional):

    * ``step(s, r, t, out, count)``: a reading continuous with the meter's last one (``r``:
      ``safety.layout.Reading``, a value; ``t``: ``safety.params.Tables``);
    * ``on_new_baseline(s, r, t)``: a reading that starts a new baseline (the meter's first,
      after a register reset or a long gap): forget running episodes; ``judges_new_baseline``
      units also ``step`` on it (they need no previous reading);
    * ``on_event(s, ts, event, t, out, count)``: a meter event (``codes.EVENTS``).
    """

    name: str
    rules: tuple[Rule, ...]
    sections: Mapping[str, type] = field(default_factory=dict)
    params: tuple[Param, ...] = ()
    state: tuple[Field, ...] = ()
    step: Callable[..., None] | None = None
    on_new_baseline: Callable[..., None] | None = None
    judges_new_baseline: bool = False
    on_event: Callable[..., None] | None = None
