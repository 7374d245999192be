"""Keeping the safety engine's state across restarts: a snapshot written atomically
(temporary file, fsync, rename, folder fsync) every ``every_s`` seconds and at a clean
stop, and read back on start.

Between two snapshots the engine may see at most ``every_s`` of readings a second time
after a crash (they were not acknowledged) or miss some (acknowledged after the snapshot):
the first is harmless (older readings are ignored), the second shorter than the gap that
restarts an episode when ``every_s`` is below two report intervals.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ingest.files import fsync_dir
from safety import snapshot
from safety.engine import SafetyEngine

log = logging.getLogger(__name__)


class SnapshotKeeper:
    def __init__(
        self,
        path: Path,
        engine: SafetyEngine,
        every_s: float,
    ) -> None:
        self.path = path
        self.engine = engine
        self.every_s = every_s  # the lane's chore saves at this cadence (ingest.chores)

    def restore(self) -> int:
        """Load the snapshot if there is one; returns how many meters it restored."""
        if not self.path.exists():
            return 0
        try:
            restored = snapshot.load(self.engine, self.path.read_bytes())
        except (OSError, snapshot.SnapshotError) as exc:
            log.error(
                "engine snapshot %s unreadable (%s); starting with empty rule state", self.path, exc
            )
            return 0
        log.warning("safety engine state restored for %d meters from %s", restored, self.path)
        return restored

    def save(self) -> None:
        data = snapshot.dump(self.engine)
        temporary = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            log.error("cannot write the engine snapshot %s: %s", self.path, exc)
