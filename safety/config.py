"""Rule thresholds. Defaults are DESIGN.md's table; every number can be overridden by TOML.

The sections are the rule modules' own (``RuleUnit.sections``, gathered in
``safety.rulebook.SECTIONS``) plus ``[data_quality]`` (``safety.quality``) and the model
table (``safety.models``). A TOML file mirrors the dataclass fields, for example::

    [over_flow]
    hold_s = 90

    [models.G4]
    over_flow_m3h = 7.3
    sudden_step_m3h = 5.6

    [micro_flow]
    action = { residential = "shutoff", commercial = "alarm", industrial = "shutoff" }
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.profiles import DEFAULT_MODEL
from safety.errors import ConfigError
from safety.models import ModelLimits, default_models, limits_of
from safety.rulebook import SECTIONS


def default_sections() -> dict[str, Any]:
    return {name: kind() for name, kind in SECTIONS.items()}


@dataclass(frozen=True, slots=True)
class RulesConfig:
    """The model table and one frozen dataclass per section; ``config.over_flow`` is
    ``config.section("over_flow")``."""

    models: dict[str, ModelLimits] = field(default_factory=default_models)
    sections: Mapping[str, Any] = field(default_factory=default_sections)

    def section(self, name: str) -> Any:
        return self.sections[name]

    def __getattr__(self, name: str) -> Any:
        if name in SECTIONS:
            return self.sections[name]
        raise AttributeError(f"RulesConfig has no section {name!r}")

    @classmethod
    def from_toml(cls, path: Path) -> RulesConfig:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read rules config {path}: {exc}") from exc
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> RulesConfig:
        base = cls()
        models = dict(base.models)
        for name, limits in raw.pop("models", {}).items():
            models[name] = _merge(models.get(name, models[DEFAULT_MODEL]), limits, f"models.{name}")
        sections = {
            name: _merge(current, raw.pop(name, {}), name)
            for name, current in base.sections.items()
        }
        if raw:
            raise ConfigError(f"unknown rules config section(s): {', '.join(sorted(raw))}")
        return cls(models=models, sections=sections)

    def as_dict(self) -> dict[str, Any]:
        return {
            "models": {name: dataclasses.asdict(limits) for name, limits in self.models.items()},
            **{name: dataclasses.asdict(section) for name, section in self.sections.items()},
        }


def _merge(current: Any, overrides: Any, where: str) -> Any:
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: expected a table, got {overrides!r}")
    known = {f.name: f for f in dataclasses.fields(current)}
    for key, value in overrides.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r}")
        expected = type(getattr(current, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            overrides[key] = float(value)
        elif not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(f"{where}.{key}: expected {expected.__name__}, got {value!r}")
    return dataclasses.replace(current, **overrides)


def model_limits(config: RulesConfig, model: str) -> ModelLimits:
    """The limits of ``model``; an unknown model gets the G2.5 limits (DESIGN.md)."""
    return limits_of(config.models, model)
