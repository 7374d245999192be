"""CJ/T 188 frames: golden vectors from published examples, round trips, and fuzzing (no
exception escapes but the codec's own). Pure: no fixtures."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.readings import ValveState
from devices import cjt188
from devices.errors import CodecError

# Published read-data answers (DI 901F), as vendors' tools and tutorials quote them. The
# first is the example of the widely copied CJ/T 188 tutorial (cnblogs, "myzony"), with its
# correct checksum; it circulates with CS 08H as well, which is wrong (below). The second
# and fourth were logged from water meters in the field (T = 10H: the frame is the same for
# gas, 30H); the third has its DI in the 2004 byte order (90 1F) and no meter time.
TUTORIAL = "68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C 31 01 22 11 05 15 20 21 84 13 16"  # noqa: E501
FIELD_2017 = "68 10 69 00 01 07 17 20 00 81 16 1F 90 02 00 00 00 00 2C 00 00 00 00 2C 59 54 16 19 08 17 20 13 01 EF 16"  # noqa: E501
ORDER_2004 = "FE FE FE 68 10 18 02 12 20 20 00 00 81 16 90 1F 00 00 02 00 00 2C 00 02 00 00 2C 00 00 00 00 00 00 00 00 FF 85 16"  # noqa: E501
FIELD_WAKE = "FE FE 68 10 26 13 06 07 00 33 78 81 16 1F 90 04 00 68 00 00 2C 00 00 00 00 2C 00 00 00 00 00 00 00 00 00 73 16"  # noqa: E501
WRONG_CS = "FE FE FE FE 68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C 31 01 22 11 05 15 20 21 84 08 16"  # noqa: E501


def local_ms(*fields: int) -> int:
    return int(dt.datetime(*fields, tzinfo=cjt188.CHINA).timestamp() * 1000)


def test_the_tutorials_answer_decodes_to_its_published_values() -> None:
    frame = cjt188.decode_frame(bytes.fromhex(TUTORIAL))
    assert (frame.meter_type, frame.address, frame.control) == (0x10, "78330011223344", 0x81)
    data = cjt188.parse_uplink(frame)
    assert isinstance(data, cjt188.MeterData)
    assert (data.volume_m3, data.settlement_m3) == (556677.0, 556677.0)
    assert data.meter_time_ms == local_ms(2015, 5, 11, 22, 1, 31)
    assert (data.valve, data.battery_low, data.status) == ("closed", False, 0x8421)


def test_answers_logged_in_the_field_decode() -> None:
    data = cjt188.parse_uplink(cjt188.decode_frame(bytes.fromhex(FIELD_2017)))
    assert isinstance(data, cjt188.MeterData)
    assert (data.address, data.serial, data.volume_m3) == ("00201707010069", 2, 0.0)
    assert data.meter_time_ms == local_ms(2017, 8, 19, 16, 54, 59)
    assert (data.valve, data.battery_low) == ("fault", False)  # ST0 13H: D0-D1 11, D2 0
    woken = cjt188.parse_uplink(cjt188.decode_frame(bytes.fromhex(FIELD_WAKE)))
    assert isinstance(woken, cjt188.MeterData)
    assert (woken.serial, woken.volume_m3, woken.meter_time_ms) == (4, 68.0, None)


def test_the_2004_byte_order_of_the_di_decodes_too() -> None:
    data = cjt188.parse_uplink(cjt188.decode_frame(bytes.fromhex(ORDER_2004)))
    assert isinstance(data, cjt188.MeterData)
    assert (data.address, data.volume_m3, data.settlement_m3) == ("00002020120218", 2.0, 2.0)
    assert data.meter_time_ms is None  # a meter without a clock sends zeros
    assert cjt188.di_bytes(cjt188.DI_METER_DATA, "2004") == bytes.fromhex("901F")
    assert cjt188.di_bytes(cjt188.DI_METER_DATA, "2018") == bytes.fromhex("1F90")


def test_a_wrong_checksum_is_refused_with_its_code() -> None:
    with pytest.raises(CodecError) as refused:
        cjt188.decode_frame(bytes.fromhex(WRONG_CS))
    assert refused.value.code == "bad_checksum"
    assert "08H" in str(refused.value) and "13H" in str(refused.value)


def test_requests_are_the_published_frames() -> None:
    """Read data for the tutorial's meter (2018 byte order: 1F 90), checksum 80H; a
    valve close and a clock set carry 99H and the time."""
    read = cjt188.read_request("78330011223344", 0, "2018")
    wire = cjt188.encode_frame(dataclass_type(read, 0x10), wake_up=0)
    assert wire.hex(" ").upper() == "68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16"
    close = cjt188.encode_frame(cjt188.valve_request("00000000000001", True, 7, "2004"))
    assert close[:2] == b"\xfe\xfe" and close[-2:-1] != b"" and close[-1] == 0x16
    assert close[2 + 11 : 2 + 11 + 4] == bytes.fromhex("A0 17 07 99")
    clock = cjt188.clock_request("00000000000001", local_ms(2026, 3, 2, 9, 30, 5), 1, "2018")
    assert clock.data == bytes.fromhex("15 A0 01 05 30 09 02 03 26 20")


def dataclass_type(frame: cjt188.Frame, meter_type: int) -> cjt188.Frame:
    import dataclasses

    return dataclasses.replace(frame, meter_type=meter_type)


def test_a_byte_stream_is_split_into_frames_resynchronising_on_garbage() -> None:
    one, two = bytes.fromhex(TUTORIAL), bytes.fromhex(ORDER_2004)
    stream = b"\x00\x68\x99garbage" + one + b"\x16\x16" + two + one[:9]
    frames, rest, skipped = cjt188.split_frames(stream)
    assert [f.address for f in frames] == ["78330011223344", "00002020120218"]
    assert rest == one[:9]  # unfinished: kept for the next bytes
    assert skipped == len(b"\x00\x68\x99garbage") + 2 + 3  # and the wake-up bytes
    more, rest, _ = cjt188.split_frames(rest + one[9:])
    assert [f.address for f in more] == ["78330011223344"] and rest == b""


@given(
    address=st.text("0123456789", min_size=14, max_size=14),
    serial=st.integers(0, 255),
    volume=st.integers(0, 99_999_999),
    settlement=st.integers(0, 99_999_999),
    at_s=st.integers(946_684_800, 4_102_444_799),  # 2000 to 2099
    valve=st.sampled_from(["open", "closed", "fault"]),
    battery_low=st.booleans(),
    edition=st.sampled_from(cjt188.EDITIONS),
    wake_up=st.integers(0, 4),
)
def test_meter_data_round_trips(
    address: str,
    serial: int,
    volume: int,
    settlement: int,
    at_s: int,
    valve: ValveState,
    battery_low: bool,
    edition: cjt188.Edition,
    wake_up: int,
) -> None:
    sent = cjt188.MeterData(
        address,
        serial,
        volume / 100,
        settlement / 100,
        at_s * 1000,
        valve,
        battery_low,
        cjt188.status_bits(valve, battery_low),
    )
    wire = cjt188.encode_frame(cjt188.meter_data_frame(sent, edition), wake_up)
    assert cjt188.parse_uplink(cjt188.decode_frame(wire)) == sent


@given(st.binary(max_size=80))
def test_no_input_raises_anything_but_the_codecs_error(raw: bytes) -> None:
    try:
        frame = cjt188.decode_frame(raw)
        cjt188.parse_uplink(frame)
    except CodecError as exc:
        assert exc.code and str(exc)
    frames, rest, skipped = cjt188.split_frames(raw)
    assert skipped + len(rest) <= len(raw)
    for found in frames:  # a frame found is bytes that were there
        assert cjt188.encode_frame(found, wake_up=0) in raw


@given(st.binary(min_size=1, max_size=40), st.integers(0, 35))
def test_a_corrupted_valid_frame_is_refused_or_still_means_a_frame(noise: bytes, at: int) -> None:
    """Any byte changed in a valid answer is caught (checksum, end, length) or yields a
    frame whose checksum is right: never an exception of another kind."""
    wire = bytearray(bytes.fromhex(TUTORIAL))
    for offset, byte in enumerate(noise):
        wire[(at + offset) % len(wire)] = byte
    try:
        cjt188.parse_uplink(cjt188.decode_frame(bytes(wire)))
    except CodecError as exc:
        assert exc.code
