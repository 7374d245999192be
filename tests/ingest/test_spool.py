"""The write-ahead spool on a real folder: order, bounds, rotation, crash safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract.readings import Reading
from ingest.spool import Spool, SpoolFull


def reading(ts: int) -> Reading:
    return Reading("SP1", ts, 1.0 + ts / 1000, 0.2, 2.0, 24.0, 90.0, "open")


def drain_all(spool: Spool) -> list[int]:
    drained = []
    while (batch := spool.oldest()) is not None:
        drained.extend(r.ts_ms for r in batch.readings)
        spool.mark_drained(batch)
    return drained


def test_batches_come_back_in_order_exactly_as_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1_000_000, segment_bytes=500)
    for start in range(0, 30, 3):
        spool.append([reading(start), reading(start + 1), reading(start + 2)])
    assert spool.records == 10 and len(list(tmp_path.glob("*.spool"))) > 1  # rotated
    batch = spool.oldest()
    assert batch is not None and batch.readings == [reading(0), reading(1), reading(2)]
    assert drain_all(spool) == list(range(30))
    assert (spool.records, spool.size_bytes, bool(spool)) == (0, 0, False)
    assert list(tmp_path.iterdir()) == []


def test_the_bound_refuses_instead_of_growing(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=400)
    spool.append([reading(1)])
    with pytest.raises(SpoolFull):
        for ts in range(2, 100):
            spool.append([reading(ts)])
    assert spool.size_bytes <= 400
    drain_all(spool)
    spool.append([reading(500)])  # room again once drained


def test_what_was_spooled_survives_a_restart(tmp_path: Path) -> None:
    first = Spool(tmp_path, max_bytes=1_000_000, segment_bytes=300)
    for ts in range(8):
        first.append([reading(ts)])
    second = Spool(tmp_path, max_bytes=1_000_000, segment_bytes=300)
    assert second.records == 8 and second.size_bytes == first.size_bytes
    assert drain_all(second) == list(range(8))


def test_a_torn_tail_is_cut_and_later_appends_stay_readable(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1_000_000)
    spool.append([reading(1)])
    spool.append([reading(2)])
    (segment,) = tmp_path.glob("*.spool")
    with segment.open("ab") as handle:
        handle.write(b"\x00\x00\x01\x00\x12\x34half a record")  # a crash mid-append
    reopened = Spool(tmp_path, max_bytes=1_000_000)
    assert reopened.records == 2
    reopened.append([reading(3)])
    assert drain_all(reopened) == [1, 2, 3]


def test_a_corrupted_record_ends_the_segment(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1_000_000)
    spool.append([reading(1)])
    spool.append([reading(2)])
    (segment,) = tmp_path.glob("*.spool")
    data = bytearray(segment.read_bytes())
    data[-3] ^= 0xFF  # flip bits in the last record's payload
    segment.write_bytes(bytes(data))
    assert drain_all(Spool(tmp_path, max_bytes=1_000_000)) == [1]


def _write_record(segment: Path, payload: bytes) -> None:
    import zlib

    from ingest.spool import HEADER

    with segment.open("ab") as handle:
        handle.write(HEADER.pack(len(payload), zlib.crc32(payload)) + payload)


def test_a_spool_written_before_an_upgrade_is_read_by_its_own_fields(tmp_path: Path) -> None:
    """Records used to be bare rows read back by position: a field added to the reading
    would have shifted every value of a spool written by the version before. A record now
    names its fields and its field-table version; an old record is read as version 1."""
    import json

    old = [["SP1", 5, 1.5, 0.2, 2.0, 24.0, 90.0, "open"]]  # the unversioned form
    _write_record(tmp_path / "000000000001.spool", json.dumps(old).encode())
    reordered = {  # a later version, its fields in another order, one of them new
        "v": 2,
        "f": ["ts_ms", "meter_id", "volume_m3", "valve", "signal_dbm"],
        "r": [[6, "SP1", 1.6, "closed", -97]],
    }
    _write_record(tmp_path / "000000000001.spool", json.dumps(reordered).encode())
    spool = Spool(tmp_path, max_bytes=1_000_000)
    assert spool.records == 2
    first = spool.oldest()
    assert first is not None
    assert first.readings == [Reading("SP1", 5, 1.5, 0.2, 2.0, 24.0, 90.0, "open")]
    spool.mark_drained(first)
    second = spool.oldest()
    assert second is not None and second.readings == [Reading("SP1", 6, 1.6, valve="closed")]
    spool.mark_drained(second)
    spool.append([reading(7)])
    written = spool.oldest()
    assert written is not None and written.readings == [reading(7)]
    (segment,) = tmp_path.glob("*.spool")
    raw = segment.read_bytes()
    assert b'"v":1' in raw and b'"f":["meter_id","ts_ms"' in raw
