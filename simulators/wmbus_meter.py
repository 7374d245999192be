"""A simulated wireless M-Bus gas meter read by a wmbusmeters gateway (profile wmbus). Pure:
a reading becomes the JSON wmbusmeters prints for the telegram (its field names; its
``timestamp``, UTC to the second, is when the gateway received it), which the gateway
publishes on the meter's ``wmbus`` topic. The radio is one-way: no commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from contract.readings import Reading
from simulators.meter import LOW_BATTERY_PCT


def telegram(reading: Reading) -> bytes:
    low = (reading.battery_pct or 100.0) <= LOW_BATTERY_PCT
    received = datetime.fromtimestamp(reading.ts_ms // 1000, UTC)
    body = {
        "_": "telegram",
        "media": "gas",
        "meter": "gwfgas",
        "name": f"gas-{reading.meter_id}",
        "id": reading.meter_id,
        "total_m3": round(reading.volume_m3, 3),
        "status": "POWER_LOW" if low else "OK",
        "timestamp": received.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json.dumps(body).encode()
