"""Engine state to and from bytes (pure; the adapter does the file I/O).

An ``.npz`` archive (numpy's zip of arrays, read without pickle): every meter's packed
record and id, the model names its codes stand for, and the watermark's quorum of clocks.
Restoring into an engine that already knows some meters (profiles from the registry)
keeps their profiles and puts the rule state into their slots.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from safety.engine import SafetyEngine
from safety.errors import SafetyError
from safety.index import ID_BYTES
from safety.layout import STATE

VERSION = 2
PROFILE_FIELDS = ("model", "category", "interval")


class SnapshotError(SafetyError):
    """A snapshot cannot be read back."""


def dump(engine: SafetyEngine) -> bytes:
    count = engine.meters
    clocks = engine.watermark.clocks()
    buffer = io.BytesIO()
    np.savez(
        buffer,
        version=np.array(VERSION),
        layout=np.array(str(STATE.descr)),
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
            if str(archive["layout"]) != str(STATE.descr):
                raise SnapshotError("snapshot has another state layout")
            _restore(engine, archive)
            return int(archive["states"].shape[0])
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
        raise SnapshotError(f"snapshot is malformed: {exc}") from exc


def _restore(engine: SafetyEngine, archive: np.lib.npyio.NpzFile) -> None:
    states = archive["states"]
    known = engine.meters
    ids = archive["ids"]
    if states.dtype != STATE or ids.dtype != np.uint8 or ids.shape != (len(states), ID_BYTES):
        raise SnapshotError("snapshot arrays do not match each other or the layout")
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
