"""The streaming safety engine: readings and events in, decisions out. Pure: time is the
inputs' event time and the fleet watermark.

The rules run compiled (``safety.kernel``) over the fleet's packed state
(``safety.rulebook.STATE``); this class is the edge: meter ids to slots, profiles to
codes, decision rows to ``Decision`` values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from contract.decisions import Decision
from contract.events import MeterEvent
from contract.profiles import DEFAULT_MODEL, MeterProfile
from contract.readings import Reading
from safety import jit, kernel
from safety.batch import Batch, from_items
from safety.codes import ACTIONS, CATEGORIES, CATEGORY_CODE
from safety.config import RulesConfig
from safety.index import MeterIndex, encode
from safety.layout import SCHEDULED
from safety.models import model_table
from safety.params import compile_params
from safety.rulebook import CATEGORY_FIELDS, RULE_CODE, RULES, blank_states
from safety.watermark import FleetWatermark


class SafetyEngine:
    def __init__(
        self, config: RulesConfig | None = None, profiles: Mapping[str, MeterProfile] | None = None
    ) -> None:
        jit.build()  # before the first compile
        self.config = config or RulesConfig()
        self.params = compile_params(self.config)
        self.index = MeterIndex()
        self.models: list[str] = [DEFAULT_MODEL]
        self._model_codes = {DEFAULT_MODEL: 0}
        self._model_limits = model_table(self.config.models, self.models)
        self.states = blank_states(self.index.capacity)
        self.watermark = FleetWatermark(self.params.quorum)
        if profiles:
            self.reserve(len(profiles))
            self.set_profiles(list(profiles.values()))

    # -- meters ---------------------------------------------------------------------------

    def reserve(self, meters: int) -> None:
        """Room for ``meters`` meters without growing (for a fleet of known size)."""
        self.index.reserve(meters)
        self._fit_states()

    def slots(self, keys: np.ndarray) -> np.ndarray:
        """The slots of encoded meter ids (``index.encode``); new meters get fresh ones."""
        slots = self.index.slots(keys)
        self._fit_states()
        return slots

    def _fit_states(self) -> None:
        capacity = self.index.capacity
        if self.states.shape[0] < capacity:
            grown = blank_states(capacity)
            grown[: self.states.shape[0]] = self.states
            self.states = grown

    def model_code(self, model: str) -> int:
        code = self._model_codes.get(model)
        if code is None:
            code = self._model_codes[model] = len(self.models)
            self.models.append(model)
            self._model_limits = model_table(self.config.models, self.models)
        return code

    def set_profile(self, profile: MeterProfile) -> None:
        self.set_profiles([profile])

    def set_profiles(self, profiles: list[MeterProfile]) -> None:
        """Model, category, report interval and upload interval of these meters (all at
        once: a fleet's profiles at start-up)."""
        if not profiles:
            return
        slots = self.slots(encode([p.meter_id for p in profiles]))
        categories = np.array([CATEGORY_CODE[p.category] for p in profiles], dtype=np.uint8)
        models = np.array([self.model_code(p.model) for p in profiles], dtype=np.uint16)
        intervals = np.array([p.report_interval_s for p in profiles], dtype=np.int32)
        uploads = np.array([p.upload_every_s for p in profiles], dtype=np.int32)
        records = self.states[slots]
        moved = records["category"] != categories
        for field in CATEGORY_FIELDS:  # counted against another category's table
            records[field.name][moved] = field.blank
        if np.any(records["interval"] != intervals) or np.any(records["upload"] != uploads):
            self.watermark.recheck_deadlines()  # a deadline may now be earlier
        records["category"] = categories
        records["model"] = models
        records["interval"] = intervals
        records["upload"] = uploads
        self.states[slots] = records

    def profile(self, meter_id: str) -> MeterProfile:
        slot = self.index.find(meter_id)
        if slot is None:
            return MeterProfile(meter_id)
        record = self.states[slot]
        return MeterProfile(
            meter_id,
            self.models[int(record["model"])],
            CATEGORIES[int(record["category"])],
            int(record["interval"]),
            upload_every_s=int(record["upload"]),
        )

    def retire(self, meter_id: str) -> None:
        """The meter is out of service (removed, or replaced by another): its silence is
        no longer a fault, so its offline deadline stops. Should it speak again, it is
        judged again."""
        slot = self.index.find(meter_id)
        if slot is not None:
            self.states[slot]["flags"] &= ~SCHEDULED & 0xFF

    def clear(self, meter_id: str, rule: str) -> None:
        """An operator cleared the alarm: the rule may fire again for this meter. An alarm
        the engine does not raise (a command's or a connection's) changes nothing here."""
        code = RULE_CODE.get(rule)
        slot = self.index.find(meter_id)
        if code is not None and slot is not None:
            every_bit = np.iinfo(self.states.dtype["open_rules"]).max
            self.states[slot]["open_rules"] &= every_bit ^ (1 << code)

    @property
    def meters(self) -> int:
        return len(self.index)

    def state_bytes(self) -> int:
        """Bytes the engine holds for its meters: packed state plus the id index."""
        return int(self.states.nbytes + self.index.nbytes)

    # -- inputs ---------------------------------------------------------------------------

    def process(self, items: Iterable[Reading | MeterEvent]) -> list[Decision]:
        return self.process_batch(from_items(items))

    def on_reading(self, reading: Reading) -> list[Decision]:
        return self.process([reading])

    def on_event(self, event: MeterEvent) -> list[Decision]:
        return self.process([event])

    def process_batch(self, batch: Batch) -> list[Decision]:
        """Every item of ``batch`` in order; the decisions in the order decided."""
        if not len(batch):
            return []
        slots = self.slots(batch.keys())
        rows = kernel.run(
            self.states,
            self.meters,
            self.watermark.top_slot,
            self.watermark.top_ts,
            self.watermark.meta,
            slots,
            batch.kinds,
            batch.times,
            batch.volumes,
            batch.flows,
            batch.pressures,
            batch.batteries,
            batch.valves,
            batch.events,
            self.params.tables(self._model_limits),
        )
        return [self._decision(row) for row in rows]

    def _decision(self, row: np.void) -> Decision:
        slot = int(row["slot"])
        rule = RULES[int(row["rule"])]
        category = CATEGORIES[int(self.states[slot]["category"])]
        numbers = [float(v) for v in row["x"][: rule.numbers]]
        detail = rule.detail(numbers, self.config.section(rule.section), category)
        return Decision(
            ts_ms=int(row["ts"]),
            meter_id=self.index.meter_id(slot),
            rule=rule.id,
            action=ACTIONS[int(row["action"])],  # type: ignore[arg-type]
            detail=detail,
        )
