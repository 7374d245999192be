"""CJ/T 188 (户用计量仪表数据传输技术条件), the Chinese standard frames of water, heat and
gas meters, for gas meters (type 30H). Pure: bytes in, values out, ``CodecError`` for
every malformed input and nothing else.

A frame is ``[FE…] 68 T A0…A6 C L DATA CS 16``:

* ``FE`` wake-up bytes (any number, skipped), ``68`` start, ``T`` the meter type;
* ``A0…A6`` the address, seven bytes, A0 first; printed (and used as gasguard's meter id)
  as fourteen hex digits from A6 to A0, the way the meter's nameplate shows it;
* ``C`` the control code: D7 the direction (1: from the meter), D6 an abnormal answer,
  D5-D0 the function (01 read data, 04 write data, 03 read address, 15 write address);
* ``L`` the length of ``DATA``: the data identifier ``DI`` (two bytes), the sequence
  number ``SER`` (one byte) and the values;
* ``CS`` the sum of every byte from ``68`` to the end of ``DATA``, modulo 256; ``16`` end.

The values gasguard uses (docs/protocols.md has the table):

* **DI 901F, read data** (the meter's answer, C = 81H, 19 bytes of values): accumulated
  volume (4 bytes BCD, two decimals) and its unit (2CH m³, 29H litres), the volume at the
  settlement day and its unit, the meter's time (7 bytes BCD, second first: ss mm hh DD
  MM YY CC, local time), and the status ST (2 bytes: ST0 D0-D1 the valve, 00 open, 01
  closed, 11 fault; D2 the battery, 1 under voltage).
* **DI A017, valve control** (C = 04H): 55H open, 99H close; the answer (C = 84H) carries
  DI, SER and the status ST.
* **DI A015, clock set** (C = 04H): the time, 7 bytes BCD as above.

**Editions.** The 2004 and 2018 editions share the frame; for gas meters the difference
that reaches the wire is the order of the two DI bytes: high byte first in 2004 (90 1F),
low byte first in 2018 (1F 90). The decoder takes either (no defined DI is another one's
swap) and the encoder writes the profile's edition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from contract.local_time import CHINA
from contract.readings import ValveState
from devices.errors import CodecError

Edition = Literal["2004", "2018"]
EDITIONS: tuple[Edition, ...] = ("2004", "2018")

WAKE_UP = 0xFE
START = 0x68
END = 0x16
GAS_METER = 0x30  # the meter type of gas meters
HEADER_BYTES = 11  # 68 T A0..A6 C L
ADDRESS_BYTES = 7
MAX_DATA_BYTES = 255

FROM_METER = 0x80  # C, D7: the frame comes from the meter
ABNORMAL = 0x40  # C, D6: the meter could not do what was asked
FUNCTION_MASK = 0x3F
READ_DATA = 0x01
WRITE_DATA = 0x04
READ_ADDRESS = 0x03

DI_METER_DATA = 0x901F
DI_VALVE = 0xA017
DI_CLOCK = 0xA015
DI_ADDRESS = 0x810A
KNOWN_DI = frozenset({DI_METER_DATA, DI_VALVE, DI_CLOCK, DI_ADDRESS})

VALVE_OPEN = 0x55
VALVE_CLOSE = 0x99
METER_DATA_BYTES = 19  # two volumes with units, the time, the status
UNIT_M3 = 0x2C
UNIT_LITRE = 0x29
UNITS_TO_M3 = {UNIT_M3: 1.0, UNIT_LITRE: 0.001}
VOLUME_DECIMALS = 2
MAX_VOLUME = 999_999.99  # 4 bytes BCD, two decimals
VALVE_BITS = {0b00: "open", 0b01: "closed", 0b11: "fault", 0b10: "fault"}
BATTERY_LOW = 0x04  # ST0, D2


@dataclass(frozen=True, slots=True)
class Frame:
    meter_type: int
    address: str  # 14 hex digits, A6 first
    control: int
    data: bytes

    @property
    def from_meter(self) -> bool:
        return bool(self.control & FROM_METER)

    @property
    def abnormal(self) -> bool:
        return bool(self.control & ABNORMAL)

    @property
    def function(self) -> int:
        return self.control & FUNCTION_MASK


def checksum(body: bytes) -> int:
    """CS: the sum of the bytes from 68 to the end of DATA, modulo 256."""
    return sum(body) & 0xFF


def address_bytes(address: str) -> bytes:
    """A0…A6 of a 14-hex-digit address (A6 first, as printed)."""
    if len(address) != 2 * ADDRESS_BYTES:
        raise CodecError("bad_address", f"address {address!r}: 14 hex digits are needed")
    try:
        return bytes.fromhex(address)[::-1]
    except ValueError as exc:
        raise CodecError("bad_address", f"address {address!r} is not hex digits") from exc


def encode_frame(frame: Frame, wake_up: int = 2) -> bytes:
    if len(frame.data) > MAX_DATA_BYTES:
        raise CodecError("too_long", f"{len(frame.data)} data bytes: at most {MAX_DATA_BYTES}")
    body = (
        bytes([START, frame.meter_type])
        + address_bytes(frame.address)
        + bytes([frame.control, len(frame.data)])
        + frame.data
    )
    return bytes([WAKE_UP] * wake_up) + body + bytes([checksum(body), END])


def decode_frame(raw: bytes) -> Frame:
    """Exactly one frame (wake-up bytes before it allowed, nothing after it)."""
    start = 0
    while start < len(raw) and raw[start] == WAKE_UP:
        start += 1
    frame, end = _frame_at(raw, start)
    if end != len(raw):
        raise CodecError("trailing_bytes", f"{len(raw) - end} bytes after the frame's end")
    return frame


def _frame_at(raw: bytes, start: int) -> tuple[Frame, int]:
    """The frame that starts at ``raw[start]`` and the index after it."""
    if start >= len(raw) or raw[start] != START:
        raise CodecError("no_frame", "no frame start (68H)")
    if len(raw) - start < HEADER_BYTES + 2:
        raise CodecError("short_frame", f"{len(raw) - start} bytes: a frame has at least 13")
    length = raw[start + 10]
    end = start + HEADER_BYTES + length + 2
    if end > len(raw):
        raise CodecError("short_frame", f"L = {length}, but the frame is cut short")
    body = raw[start : start + HEADER_BYTES + length]
    if raw[end - 1] != END:
        raise CodecError("bad_end", f"frame end is {raw[end - 1]:02X}H, not 16H")
    if raw[end - 2] != checksum(body):
        raise CodecError("bad_checksum", f"CS {raw[end - 2]:02X}H, computed {checksum(body):02X}H")
    address = body[2:9][::-1].hex().upper()
    return Frame(body[1], address, body[9], bytes(body[HEADER_BYTES:])), end


def split_frames(buffer: bytes) -> tuple[list[Frame], bytes, int]:
    """The frames in a byte stream (a TCP connection, a DTU's payload of several frames),
    resynchronising on garbage: returns the frames, the unfinished tail to keep for more
    bytes, and how many bytes were skipped as garbage."""
    frames: list[Frame] = []
    skipped, index = 0, 0
    while index < len(buffer):
        if buffer[index] != START:
            index, skipped = index + 1, skipped + 1
            continue
        try:
            frame, index = _frame_at(buffer, index)
        except CodecError as exc:
            if exc.code == "short_frame":
                return frames, bytes(buffer[index:]), skipped
            index, skipped = index + 1, skipped + 1  # a 68H inside garbage: look further
            continue
        frames.append(frame)
    return frames, b"", skipped


# -- data identifiers and values -------------------------------------------------------


def di_bytes(di: int, edition: Edition) -> bytes:
    high, low = di >> 8, di & 0xFF
    return bytes([high, low] if edition == "2004" else [low, high])


def read_di(data: bytes) -> int:
    """The DI of a frame's data, in either edition's byte order."""
    if len(data) < 3:
        raise CodecError("short_data", f"{len(data)} data bytes: DI and SER need 3")
    as_2004 = data[0] << 8 | data[1]
    if as_2004 in KNOWN_DI:
        return as_2004
    as_2018 = data[1] << 8 | data[0]
    if as_2018 in KNOWN_DI:
        return as_2018
    raise CodecError("unknown_di", f"data identifier {data[0]:02X} {data[1]:02X} is not known")


# each byte's value as two BCD digits, -1 for a byte that is not BCD (a table: the
# decoder reads nine BCD fields per answer)
BCD = tuple((b >> 4) * 10 + (b & 0x0F) if b >> 4 <= 9 and b & 0x0F <= 9 else -1 for b in range(256))


def bcd_to_int(raw: bytes) -> int:
    """Little-endian BCD (the first byte holds the lowest two digits)."""
    value, scale = 0, 1
    for byte in raw:
        pair = BCD[byte]
        if pair < 0:
            raise CodecError("bad_bcd", f"{byte:02X}H is not a BCD byte")
        value += pair * scale
        scale *= 100
    return value


def int_to_bcd(value: int, size: int) -> bytes:
    if value < 0 or value >= 100**size:
        raise CodecError("out_of_range", f"{value} does not fit {size} BCD bytes")
    out = bytearray()
    for _ in range(size):
        value, pair = divmod(value, 100)
        out.append((pair // 10) << 4 | pair % 10)
    return bytes(out)


def decode_time(raw: bytes, zone: dt.tzinfo = CHINA) -> int | None:
    """ss mm hh DD MM YY CC, BCD, local time in ``zone`` -> epoch milliseconds; None for
    all zeros (a meter without a clock sends them: seen in the field)."""
    if len(raw) != 7:
        raise CodecError("bad_time", f"meter time of {len(raw)} bytes: 7 expected")
    if not any(raw):
        return None
    second, minute, hour, day, month, year, century = (BCD[byte] for byte in raw)
    if min(second, minute, hour, day, month, year, century) < 0:
        raise CodecError("bad_bcd", f"meter time {raw.hex(' ')} is not BCD")
    try:
        at = dt.datetime(century * 100 + year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as exc:
        raise CodecError("bad_time", f"meter time {raw.hex(' ')}: {exc}") from exc
    return int(at.timestamp() * 1000)


def encode_time(ms: int, zone: dt.tzinfo = CHINA) -> bytes:
    at = dt.datetime.fromtimestamp(ms / 1000, zone)
    fields = (at.second, at.minute, at.hour, at.day, at.month, at.year % 100, at.year // 100)
    return b"".join(int_to_bcd(f, 1) for f in fields)


def _volume(raw: bytes) -> float:
    unit = raw[4]
    if unit not in UNITS_TO_M3:
        raise CodecError("bad_unit", f"unit {unit:02X}H: 2CH (m³) or 29H (L) expected")
    return round(bcd_to_int(raw[:4]) / 10**VOLUME_DECIMALS * UNITS_TO_M3[unit], 6)


def _volume_bytes(volume_m3: float) -> bytes:
    if not 0 <= volume_m3 <= MAX_VOLUME:
        raise CodecError("out_of_range", f"volume {volume_m3} m³ does not fit 4 BCD bytes")
    return int_to_bcd(round(volume_m3 * 10**VOLUME_DECIMALS), 4) + bytes([UNIT_M3])


# -- what meters answer ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterData:
    """DI 901F: the meter's registers, time and status."""

    address: str
    serial: int
    volume_m3: float
    settlement_m3: float
    meter_time_ms: int | None  # None: the meter sent no time (all zeros)
    valve: ValveState
    battery_low: bool
    status: int  # ST0 | ST1 << 8, as sent (vendor bits included)


@dataclass(frozen=True, slots=True)
class WriteAck:
    """The meter's answer to a write (valve, clock): done, or refused (``abnormal``)."""

    address: str
    di: int | None  # None in an abnormal answer, which carries only a status byte
    serial: int | None
    abnormal: bool
    status: int | None


Uplink = MeterData | WriteAck


def parse_uplink(frame: Frame, zone: dt.tzinfo = CHINA) -> Uplink:
    """What a frame from a meter says."""
    if not frame.from_meter:
        raise CodecError("not_from_meter", f"C = {frame.control:02X}H is a request (D7 = 0)")
    if frame.abnormal:
        status = frame.data[0] if frame.data else None
        return WriteAck(frame.address, None, None, True, status)
    di = read_di(frame.data)
    serial, values = frame.data[2], frame.data[3:]
    if frame.function == READ_DATA and di == DI_METER_DATA:
        return _meter_data(frame.address, serial, values, zone)
    if frame.function == WRITE_DATA and di in (DI_VALVE, DI_CLOCK):
        status = int.from_bytes(values[:2], "little") if values else None
        return WriteAck(frame.address, di, serial, False, status)
    raise CodecError("not_supported", f"function {frame.function:02X}H with DI {di:04X}H")


def _meter_data(address: str, serial: int, values: bytes, zone: dt.tzinfo) -> MeterData:
    if len(values) != METER_DATA_BYTES:
        raise CodecError(
            "bad_data_length", f"DI 901F: {len(values)} value bytes, {METER_DATA_BYTES} expected"
        )
    status = values[17] | values[18] << 8
    return MeterData(
        address,
        serial,
        _volume(values[0:5]),
        _volume(values[5:10]),
        decode_time(values[10:17], zone),
        VALVE_BITS[values[17] & 0b11],  # type: ignore[arg-type]
        bool(values[17] & BATTERY_LOW),
        status,
    )


def meter_data_frame(data: MeterData, edition: Edition, zone: dt.tzinfo = CHINA) -> Frame:
    """The frame a meter sends for ``data`` (the simulator's meters, and tests)."""
    values = (
        _volume_bytes(data.volume_m3)
        + _volume_bytes(data.settlement_m3)
        + (bytes(7) if data.meter_time_ms is None else encode_time(data.meter_time_ms, zone))
        + bytes([data.status & 0xFF, data.status >> 8])
    )
    payload = di_bytes(DI_METER_DATA, edition) + bytes([data.serial]) + values
    return Frame(GAS_METER, data.address, FROM_METER | READ_DATA, payload)


def status_bits(valve: ValveState, battery_low: bool) -> int:
    valve_bits = {"open": 0b00, "closed": 0b01, "fault": 0b11}[valve]
    return valve_bits | (BATTERY_LOW if battery_low else 0)


def write_ack_frame(address: str, di: int, serial: int, status: int, edition: Edition) -> Frame:
    data = di_bytes(di, edition) + bytes([serial, status & 0xFF, status >> 8])
    return Frame(GAS_METER, address, FROM_METER | WRITE_DATA, data)


# -- what gasguard asks ----------------------------------------------------------------


def read_request(address: str, serial: int, edition: Edition) -> Frame:
    return Frame(GAS_METER, address, READ_DATA, di_bytes(DI_METER_DATA, edition) + bytes([serial]))


def valve_request(address: str, close: bool, serial: int, edition: Edition) -> Frame:
    action = VALVE_CLOSE if close else VALVE_OPEN
    data = di_bytes(DI_VALVE, edition) + bytes([serial, action])
    return Frame(GAS_METER, address, WRITE_DATA, data)


def clock_request(
    address: str, at_ms: int, serial: int, edition: Edition, zone: dt.tzinfo = CHINA
) -> Frame:
    data = di_bytes(DI_CLOCK, edition) + bytes([serial]) + encode_time(at_ms, zone)
    return Frame(GAS_METER, address, WRITE_DATA, data)


@dataclass(frozen=True, slots=True)
class Request:
    """A request as a meter reads it (the simulated meters answer these)."""

    address: str
    di: int
    serial: int
    values: bytes


def parse_request(frame: Frame) -> Request:
    if frame.from_meter:
        raise CodecError("not_a_request", f"C = {frame.control:02X}H comes from a meter")
    di = read_di(frame.data)
    return Request(frame.address, di, frame.data[2], frame.data[3:])
