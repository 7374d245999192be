"""Engine state to and from bytes (pure; the adapter does the file I/O).

An ``.npz`` archive (numpy's zip of arrays, read without pickle): every meter's packed
record and id, the model names its codes stand for, and the watermark's quorum of clocks.
Restoring into an engine that already knows some meters (profiles from the registry)
keeps their profiles and puts the rule state into their slots.

Records are restored **by field name**, so a snapshot written before an upgrade that
added or removed a rule loads: a field the snapshot lacks starts blank (the new rule's
episodes start fresh), a field the code no longer has is dropped, and the bits of rules
that no longer exist are cleared from ``open_rules`` (rule codes are never reused). A
field whose type or shape changed cannot be carried over: the snapshot is refused.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from safety.engine import SafetyEngine
from safety.errors import SafetyError
from safety.index import ID_BYTES
from safety.rulebook import RULES, STATE, blank_states

VERSION = 2
PROFILE_FIELDS = ("model", "category", "interval", "upload")


class SnapshotError(SafetyError):
    """A snapshot cannot be read back."""


def dump(engine: SafetyEngine) -> bytes:
    count = engine.meters
    clocks = engine.watermark.clocks()
    buffer = io.BytesIO()
    np.savez(
        buffer,
        version=np.array(VERSION),
        layout=np.array(str(STATE.descr)),  # for people: loading reads the states' own dtype
        states=engine.states[:count],
        ids=engine.index.encoded(),
        models=np.array(engine.models),
        top_slot=np.array([slot for slot, _ in clocks], dtype=np.int64),
        top_ts=np.array([ts for _, ts in clocks], dtype=np.int64),
    )
    return buffer.getvalue()


def load(engine: SafetyEngine, data: bytes) -> int:
    """Restore ``data`` into ``engine``; returns how many meters were restored."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            if int(archive["version"]) != VERSION:
                raise SnapshotError(f"snapshot version {archive['version']}, expected {VERSION}")
            _restore(engine, archive)
            return int(archive["states"].shape[0])
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
        raise SnapshotError(f"snapshot is malformed: {exc}") from exc


def current_records(saved: np.ndarray) -> np.ndarray:
    """``saved`` records (of any earlier layout) as records of today's ``STATE``."""
    if saved.dtype.names is None:
        raise SnapshotError("snapshot states are not records")
    records = blank_states(len(saved))
    for name in saved.dtype.names:
        if name not in (STATE.names or ()):
            continue  # a rule that no longer exists
        was, now = saved.dtype[name], STATE[name]
        if was.shape != now.shape or not np.can_cast(was.base, now.base, "same_kind"):
            raise SnapshotError(f"snapshot field {name!r} is {was}, the engine's is {now}")
        records[name] = saved[name]
    records["open_rules"] &= (1 << len(RULES)) - 1
    return records


def _restore(engine: SafetyEngine, archive: np.lib.npyio.NpzFile) -> None:
    states = current_records(archive["states"])
    known = engine.meters
    ids = archive["ids"]
    if ids.dtype != np.uint8 or ids.shape != (len(states), ID_BYTES):
        raise SnapshotError("snapshot arrays do not match each other")
    slots = engine.slots(ids)
    codes = np.array([engine.model_code(str(name)) for name in archive["models"]], dtype=np.uint16)
    restored = states.copy()
    restored["model"] = codes[states["model"]]
    for name in PROFILE_FIELDS:  # meters the engine already knew keep their profile
        current = engine.states[slots][name]
        restored[name] = np.where(slots < known, current, restored[name])
    engine.states[slots] = restored
    for slot, ts in zip(archive["top_slot"], archive["top_ts"], strict=True):
        engine.watermark.observe(int(slots[slot]), int(ts))
    engine.watermark.recheck_deadlines()
