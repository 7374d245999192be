"""The write-ahead spool: readings the telemetry store could not take, kept durably on
local disk until it can.

Append-only segment files (``000000000001.spool``, ...) of framed records:
``length (4 bytes, big-endian) | crc32 (4 bytes) | payload``, the payload compact JSON:
``{"v": <field table version>, "f": [field names], "r": [[values], ...]}``, so a record is
read back by its own field names whatever version of gasguard wrote it (a record from
before versions is a plain list of rows in the fields of version 1). ``append`` returns
only after ``fsync``, so a message may be acknowledged as soon as its readings are
spooled. A record torn by a crash fails its length or checksum
and ends the segment: it was never acknowledged, so the broker still has it. Draining reads
records oldest first; a segment is deleted once every record in it reached the store. How
far a segment was drained is kept in memory only: after a restart its records are written
again, which the store absorbs (same series and timestamp overwrite).
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from contract.readings import FIELD_NAMES, FIELD_TABLE_VERSION, Reading, reading_from
from ingest.errors import IngestError
from ingest.files import fsync_dir

log = logging.getLogger(__name__)

HEADER = struct.Struct(">II")
SUFFIX = ".spool"
# The fields of a record written before records carried their version (field table v1).
UNVERSIONED_FIELDS = (
    "meter_id",
    "ts_ms",
    "volume_m3",
    "flow_m3h",
    "pressure_kpa",
    "temperature_c",
    "battery_pct",
    "valve",
)


class SpoolFull(IngestError):
    """The spool reached its size bound: stop acknowledging, let the broker hold the backlog."""


class SpoolError(IngestError):
    """The spool folder cannot be written."""


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """One record read back from the spool, with where it ends (to mark it drained)."""

    segment: Path
    end_offset: int
    readings: list[Reading]


def encode_readings(readings: Sequence[Reading]) -> bytes:
    rows = [[getattr(r, f) for f in FIELD_NAMES] for r in readings]
    record = {"v": FIELD_TABLE_VERSION, "f": FIELD_NAMES, "r": rows}
    return json.dumps(record, separators=(",", ":")).encode()


def decode_readings(payload: bytes) -> list[Reading]:
    """The readings of one record, by the field names the record carries."""
    try:
        record = json.loads(payload)
        if isinstance(record, list):  # written before records carried their version
            names, rows, version = UNVERSIONED_FIELDS, record, 1
        else:
            names, rows, version = tuple(record["f"]), record["r"], record["v"]
        unknown = set(names) - set(FIELD_NAMES)
        if unknown:  # written by a newer gasguard: its extra fields cannot be kept here
            log.warning("spool record of field table v%s: dropping %s", version, unknown)
        return [reading_from(dict(zip(names, row, strict=True))) for row in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise SpoolError(f"unreadable spool record ({exc})") from exc


class Spool:
    def __init__(self, folder: Path, max_bytes: int, segment_bytes: int = 16 * 1024 * 1024) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpoolError(f"cannot create spool folder {folder}: {exc}") from exc
        self._segments = sorted(folder.glob(f"*{SUFFIX}"))
        for segment in self._segments:
            _repair(segment)
        self._size = sum(p.stat().st_size for p in self._segments)
        self._drained_to: dict[Path, int] = {}
        self._records = sum(1 for segment in self._segments for _ in _records(segment, 0))
        if self._segments:
            log.warning(
                "spool holds %d records (%d bytes) from before; draining them first",
                self._records,
                self._size,
            )

    # -- state ----------------------------------------------------------------------------

    @property
    def size_bytes(self) -> int:
        return self._size

    @property
    def records(self) -> int:
        return self._records

    def __bool__(self) -> bool:
        return self._records > 0

    # -- append ---------------------------------------------------------------------------

    def append(self, readings: Sequence[Reading]) -> None:
        """Durably add ``readings`` as one record; raises ``SpoolFull`` at the bound."""
        payload = encode_readings(readings)
        record = HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        if self._size + len(record) > self.max_bytes:
            raise SpoolFull(f"spool at {self._size} of {self.max_bytes} bytes")
        segment = self._writable_segment(len(record))
        try:
            with segment.open("ab") as handle:
                handle.write(record)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise SpoolError(f"cannot append to spool segment {segment}: {exc}") from exc
        self._size += len(record)
        self._records += 1

    def _writable_segment(self, record_size: int) -> Path:
        if self._segments:
            last = self._segments[-1]
            if last.stat().st_size + record_size <= self.segment_bytes:
                return last
            number = int(last.stem) + 1
        else:
            number = 1
        segment = self.folder / f"{number:012d}{SUFFIX}"
        segment.touch()
        fsync_dir(self.folder)
        self._segments.append(segment)
        return segment

    # -- drain ----------------------------------------------------------------------------

    def oldest(self) -> SpooledBatch | None:
        """The oldest record not yet drained, or None when the spool is empty."""
        for segment in list(self._segments):
            offset = self._drained_to.get(segment, 0)
            found = next(_records(segment, offset), None)
            if found is not None:
                return SpooledBatch(segment, found[0], decode_readings(found[1]))
            if segment is not self._segments[-1]:
                self._remove(segment)
        return None

    def mark_drained(self, batch: SpooledBatch) -> None:
        """The batch reached the store; forget it (and its segment, once all of it has)."""
        start = self._drained_to.get(batch.segment, 0)
        self._drained_to[batch.segment] = batch.end_offset
        self._records -= 1
        if next(_records(batch.segment, batch.end_offset), None) is None:
            self._remove(batch.segment)
        else:
            log.debug("spool: drained %d bytes of %s", batch.end_offset - start, batch.segment.name)

    def _remove(self, segment: Path) -> None:
        size = segment.stat().st_size
        segment.unlink()
        fsync_dir(self.folder)
        self._segments.remove(segment)
        self._drained_to.pop(segment, None)
        self._size -= size


def _records(segment: Path, offset: int) -> Iterator[tuple[int, bytes]]:
    """The intact records of ``segment`` from ``offset``, lazily: (end offset, payload)
    pairs. A torn or corrupt record ends them."""
    with segment.open("rb") as handle:
        handle.seek(offset)
        position = offset
        while len(header := handle.read(HEADER.size)) == HEADER.size:
            length, checksum = HEADER.unpack(header)
            payload = handle.read(length)
            if len(payload) < length or zlib.crc32(payload) != checksum:
                return
            position += HEADER.size + length
            yield position, payload


def _repair(segment: Path) -> None:
    """Cut a torn tail (a crash mid-append) so that later appends stay readable."""
    good_end = 0
    for end, _payload in _records(segment, 0):
        good_end = end
    if segment.stat().st_size != good_end:
        log.warning(
            "spool: cutting a torn record at %s:%d (it was never acknowledged)",
            segment.name,
            good_end,
        )
        with segment.open("r+b") as handle:
            handle.truncate(good_end)
            os.fsync(handle.fileno())
