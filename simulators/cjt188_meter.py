"""A simulated meter that speaks CJ/T 188 behind a DTU (profile cjt188). Pure: the meter's
state is a ``SimMeter``; this turns its readings into read-data answers and obeys the
requests a DTU forwards (read data, valve control), as a CJ/T 188 meter does."""

from __future__ import annotations

from contract.readings import Reading
from devices import cjt188
from devices.errors import CodecError
from simulators.meter import LOW_BATTERY_PCT, SimMeter

EDITION: cjt188.Edition = "2004"
VALVE_ACTIONS = {cjt188.VALVE_CLOSE: "closed", cjt188.VALVE_OPEN: "open"}


def answer(reading: Reading, serial: int = 0) -> bytes:
    """The read-data answer carrying ``reading`` (its time in whole seconds: BCD)."""
    battery_low = (reading.battery_pct or 100.0) <= LOW_BATTERY_PCT
    valve = reading.valve or "open"
    data = cjt188.MeterData(
        reading.meter_id,
        serial,
        min(round(reading.volume_m3, 2), cjt188.MAX_VOLUME),
        0.0,
        reading.ts_ms // 1000 * 1000,
        valve,
        battery_low,
        cjt188.status_bits(valve, battery_low),
    )
    return cjt188.encode_frame(cjt188.meter_data_frame(data, EDITION))


def obey(meter: SimMeter, raw: bytes, meter_now_ms: int) -> bytes | None:
    """The meter's answer to a request forwarded by its DTU; None for what it ignores
    (another meter's frame, a request it does not know)."""
    try:
        request = cjt188.parse_request(cjt188.decode_frame(raw))
    except CodecError:
        return None
    if request.address != meter.meter_id:
        return None
    if request.di == cjt188.DI_METER_DATA:
        return answer(meter.read(meter_now_ms), request.serial)
    if request.di == cjt188.DI_CLOCK:  # a time set: its clock reads the time it was sent
        sent_ms = cjt188.decode_time(request.values[:7])
        if sent_ms is None:
            return None
        meter.clock_offset_ms += sent_ms - meter_now_ms
        ack = cjt188.write_ack_frame(meter.meter_id, cjt188.DI_CLOCK, request.serial, 0, EDITION)
        return cjt188.encode_frame(ack)
    if request.di == cjt188.DI_VALVE and request.values[:1] and request.values[0] in VALVE_ACTIONS:
        meter.read(meter_now_ms)  # the register up to the moment the valve moves
        meter.valve, meter.armed = VALVE_ACTIONS[request.values[0]], False
        status = cjt188.status_bits(meter.valve, False)  # type: ignore[arg-type]
        ack = cjt188.write_ack_frame(
            meter.meter_id, cjt188.DI_VALVE, request.serial, status, EDITION
        )
        return cjt188.encode_frame(ack)
    return None
