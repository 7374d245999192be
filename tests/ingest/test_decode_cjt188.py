"""The decoder's CJ/T 188 path (profile cjt188): a meter's read-data answer becomes a
contract reading; everything else is refused with its code. Pure: no fixtures."""

from __future__ import annotations

import dataclasses

from contract.protocol import SequenceReply
from devices import cjt188
from devices.profiles import DeviceProfile
from ingest.config import DecodeLimits
from ingest.decode import decode

NOW = 1_790_000_000_000
ADDRESS = "00000000000042"
TOPIC = f"gas/v1/meters/{ADDRESS}/cjt188-up"


def answer(**changes: object) -> cjt188.MeterData:
    data = cjt188.MeterData(ADDRESS, 1, 123.45, 120.0, NOW - 60_000, "open", False, 0)
    data = dataclasses.replace(data, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(data, status=cjt188.status_bits(data.valve, data.battery_low))


def wire(data: cjt188.MeterData, edition: cjt188.Edition = "2004", **frame: object) -> bytes:
    built = dataclasses.replace(cjt188.meter_data_frame(data, edition), **frame)  # type: ignore[arg-type]
    return cjt188.encode_frame(built)


def test_a_read_data_answer_is_a_reading_at_the_meters_time() -> None:
    decoded = decode(TOPIC, wire(answer(valve="closed")), NOW, DecodeLimits())
    assert (decoded.kind, decoded.rejections) == ("telemetry", ())
    (reading,) = decoded.readings
    assert (reading.meter_id, reading.ts_ms, reading.volume_m3) == (ADDRESS, NOW - 60_000, 123.45)
    assert (reading.valve, reading.flow_m3h) == ("closed", None)  # flow: from the volumes
    no_clock = decode(TOPIC, wire(answer(meter_time_ms=None), "2018"), NOW, DecodeLimits())
    assert no_clock.readings[0].ts_ms == NOW  # the time it was received


def test_frames_that_are_not_this_gas_meters_answer_are_refused_with_their_code() -> None:
    cases = {
        "address_mismatch": wire(answer(address="00000000000043")),
        "not_gas": wire(answer(), meter_type=0x10),
        "bad_checksum": wire(answer())[:-2] + b"\x00\x16",
        "no_frame": b"\x00hello",
        "ts_past": wire(answer(meter_time_ms=NOW - 400 * 86_400_000)),
    }
    for code, payload in cases.items():
        decoded = decode(TOPIC, payload, NOW, DecodeLimits())
        assert decoded.readings == (), code
        (rejection,) = decoded.rejections
        assert rejection.code == code and rejection.reason.startswith("CJ/T 188: ")
        assert rejection.payload == payload  # dead-lettered as it came
    down = decode(f"gas/v1/meters/{ADDRESS}/cjt188-down", wire(answer()), NOW, DecodeLimits())
    assert down.rejections[0].code == "not_accepted"


def test_an_answer_to_a_valve_control_is_a_reply_named_by_its_sequence_number() -> None:
    ack = cjt188.encode_frame(cjt188.write_ack_frame(ADDRESS, cjt188.DI_VALVE, 9, 0, "2018"))
    decoded = decode(TOPIC, ack, NOW, DecodeLimits())
    assert decoded.rejections == () and decoded.readings == ()
    assert decoded.sequence_reply == SequenceReply(ADDRESS, 9, "done", NOW)
    refused = cjt188.Frame(cjt188.GAS_METER, ADDRESS, 0xC4, bytes([0x02]))  # D6: abnormal
    answer = decode(TOPIC, cjt188.encode_frame(refused), NOW, DecodeLimits()).sequence_reply
    assert answer is not None and (answer.serial, answer.result) == (None, "rejected")
    assert answer.error == "CJ/T 188 abnormal answer, status 2"


def test_the_battery_flag_and_mapped_vendor_bits_are_alarms_in_gasguards_vocabulary() -> None:
    """ST0 D2 is the standard's battery flag: ``low_battery``; a vendor's ST1 bits mean
    what the profile says (here D0 the meter's micro-leak shut-off, D1 its tilt switch)."""
    profile = DeviceProfile(
        "acme-188",
        "cjt188",
        "mqtt",
        3600,
        options={"alarm_codes": "ST1.0:micro_flow,ST1.1:tilt"},
    )
    data = answer(valve="closed", battery_low=True)
    data = dataclasses.replace(data, status=data.status | 0b11 << 8)
    decoded = decode(TOPIC, wire(data), NOW, DecodeLimits(), lambda _m: profile)
    assert [(a.rule, a.code, a.ts_ms) for a in decoded.meter_alarms] == [
        ("low_battery", "ST0.2", NOW - 60_000),
        ("micro_flow", "ST1.0", NOW - 60_000),
    ]
    assert [(e.event, e.ts_ms) for e in decoded.events] == [("tilt", NOW - 60_000)]
    plain = decode(TOPIC, wire(answer()), NOW, DecodeLimits())
    assert (plain.meter_alarms, plain.events) == ((), ())
    old = answer(meter_time_ms=NOW - 400 * 86_400_000, battery_low=True)
    late = decode(TOPIC, wire(old), NOW, DecodeLimits())
    assert (late.rejections[0].code, late.meter_alarms) == ("ts_past", ())  # refused with it


def test_the_answer_to_a_clock_set_is_taken_and_names_no_command() -> None:
    """gasguard sets a drifted CJ/T 188 meter's clock (ingest.clock_watch): the meter's
    answer (C = 84H, DI A015) is taken, with no reply to bind to a valve command."""
    ack = cjt188.encode_frame(cjt188.write_ack_frame(ADDRESS, cjt188.DI_CLOCK, 3, 1, "2004"))
    decoded = decode(TOPIC, ack, NOW, DecodeLimits())
    assert (decoded.kind, decoded.rejections, decoded.sequence_reply) == ("replies", (), None)
