"""``RulesConfig`` compiled into the numbers the kernel reads (``Tables``): the parameter
record (``rulebook.PARAMS``, read by name: ``t.p.micro_floor``), the action of every rule
per category, the limits of every model seen, and the prolonged-use bands per category."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from safety.codes import ACTION_CODE, CATEGORIES
from safety.config import RulesConfig
from safety.layout import Record
from safety.rulebook import PARAMS, PARAMS_DTYPE, RULES
from safety.rules.prolonged_use import band_tables


class Tables(NamedTuple):
    """Everything the kernel reads of the configuration, in one argument."""

    models: np.ndarray  # float64[model code, column]: models.model_table
    p: Record  # one record of rulebook.PARAMS_DTYPE
    actions: np.ndarray  # uint8[category code, rule code]: codes.ACTIONS
    bands: np.ndarray  # float64[category, MAX_BANDS, 2]: edge m³/h, limit s
    band_counts: np.ndarray  # int64[category]


@dataclass(frozen=True)
class Params:
    record: np.ndarray  # one row of rulebook.PARAMS_DTYPE
    actions: np.ndarray
    bands: np.ndarray
    band_counts: np.ndarray
    quorum: int

    def tables(self, models: np.ndarray) -> Tables:
        return Tables(models, self.record[0], self.actions, self.bands, self.band_counts)


def parameter_record(config: RulesConfig) -> np.ndarray:
    record = np.zeros(1, dtype=PARAMS_DTYPE)
    for param in PARAMS:
        record[0][param.name] = param.value(config.section(param.section))
    return record


def rule_actions(config: RulesConfig) -> np.ndarray:
    """The action of each rule for each category; a category a per-category table leaves
    out gets ``shutoff`` (the safe side)."""
    actions = np.zeros((len(CATEGORIES), len(RULES)), dtype=np.uint8)
    for rule in RULES:
        chosen = rule.action(config.section(rule.section))
        for code, category in enumerate(CATEGORIES):
            action = chosen.get(category, "shutoff") if isinstance(chosen, Mapping) else chosen
            actions[code, rule.code] = ACTION_CODE[action]
    return actions


def compile_params(config: RulesConfig) -> Params:
    bands, counts = band_tables(config.section("prolonged_use"))
    return Params(
        record=parameter_record(config),
        actions=rule_actions(config),
        bands=bands,
        band_counts=counts,
        quorum=max(1, config.offline.watermark_quorum),
    )
