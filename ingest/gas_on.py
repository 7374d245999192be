"""Gas-on evidence for connection applications: the first reading with flow from a meter
commissioned on an open application confirms the utility's recorded gas-on (验收通气), and
completes stage two once both are there (meters.application_store).

Only the few meters waiting for gas-on are watched (refreshed from the registry every
``gas_on_refresh_s``, a lane chore), so the full reading stream costs one set lookup per message."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ingest.decode import Decoded
from meters.registry import Registry

log = logging.getLogger(__name__)


class GasOnWatcher:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self.awaiting: set[str] = set()
        self._first_flow: dict[str, int] = {}

    def refresh(self) -> None:
        """Read again which meters wait for gas-on (a chore: ingest.chores)."""
        self.awaiting = self._registry.connections.awaiting_gas_on()

    def observe(self, decoded: Iterable[Decoded]) -> None:
        if not self.awaiting:
            return
        for item in decoded:
            if item.meter_id not in self.awaiting:
                continue
            flowing = [r.ts_ms for r in item.readings if (r.flow_m3h or 0.0) > 0]
            if flowing:
                first = min(flowing)
                known = self._first_flow.get(item.meter_id)
                self._first_flow[item.meter_id] = first if known is None else min(known, first)

    def record(self, now_ms: int) -> None:
        """A pipeline step: write the gas-on times seen (then stop watching those meters)."""
        if not self._first_flow:
            return
        done = self._registry.connections.first_flow(self._first_flow, now_ms)
        for number in done:
            log.warning("connection %s: gas on, confirmed by its meter's first flow", number)
        self.awaiting -= set(self._first_flow)
        self._first_flow = {}
