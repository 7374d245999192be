"""The flow limits of each nominal meter size (G-size): DESIGN.md's model table, as the
``[models.<name>]`` tables of the rules configuration, and as the compiled core reads them
(one row per model code, one column per limit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from contract.profiles import DEFAULT_MODEL

# columns of the model table (``model_table``)
OVER_FLOW_LIMIT = 0  # rules/over_flow.py
SUDDEN_STEP = 1  # rules/sudden_increase.py


@dataclass(frozen=True, slots=True)
class ModelLimits:
    """Flow limits of one nominal meter size (G-size), m³/h."""

    over_flow_m3h: float
    sudden_step_m3h: float


def default_models() -> dict[str, ModelLimits]:
    table = {
        "G1.6": (2.9, 2.3),
        "G2.5": (4.5, 3.6),
        "G4": (7.3, 5.6),
        "G6": (10.9, 8.4),
        "G10": (18.0, 14.0),
        "G16": (29.0, 23.0),
        "G25": (45.0, 36.0),
    }
    return {name: ModelLimits(*limits) for name, limits in table.items()}


def limits_of(models: Mapping[str, ModelLimits], model: str) -> ModelLimits:
    """The limits of ``model``; an unknown model gets the G2.5 limits (DESIGN.md)."""
    return models.get(model, models[DEFAULT_MODEL])


def model_table(models: Mapping[str, ModelLimits], names: list[str]) -> np.ndarray:
    """float64[model code, column]: the limits of each model seen so far."""
    table = np.zeros((max(1, len(names)), 2), dtype=np.float64)
    for code, name in enumerate(names):
        limits = limits_of(models, name)
        table[code, OVER_FLOW_LIMIT] = limits.over_flow_m3h
        table[code, SUDDEN_STEP] = limits.sudden_step_m3h
    return table
