"""Which ingest worker handles which meters (the partitioned mode; docs/scaling.md).

Worker ``index`` of ``count`` handles the meters whose id hashes to ``index`` (CRC-32 of
the id: stable across processes and machines, unlike Python's ``hash``). Every reading,
event, reply and command of a meter goes through one worker, so that worker's safety
engine sees the meter's whole stream in order. Pure.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from contract.errors import ProtocolError
from contract.protocol import TOPIC_PREFIX

_TOPIC_HEAD = TOPIC_PREFIX + "/"


@dataclass(frozen=True, slots=True)
class Partition:
    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ProtocolError(f"partition {self.index} of {self.count}: need 0 <= index < count")

    @classmethod
    def parse(cls, text: str) -> Partition:
        """``"K/N"``: worker K (0-based) of N."""
        index, sep, count = text.partition("/")
        if not sep or not index.isdigit() or not count.isdigit():
            raise ProtocolError(f"partition {text!r} is not K/N (for example 0/2)")
        return cls(int(index), int(count))

    @property
    def whole(self) -> bool:
        return self.count == 1

    @property
    def text(self) -> str:
        """``"K/N"``, as ``parse`` reads it."""
        return f"{self.index}/{self.count}"

    @property
    def suffix(self) -> str:
        """Names this worker's own session, spool and snapshot ("" when unpartitioned)."""
        return "" if self.whole else f"-p{self.index}of{self.count}"

    def owns(self, meter_id: str) -> bool:
        return self.whole or zlib.crc32(meter_id.encode()) % self.count == self.index

    def owns_topic(self, topic: str) -> bool:
        """Whether this worker handles a message on ``topic``. A topic without a meter id
        belongs to worker 0, which dead-letters it (exactly one worker must)."""
        if self.whole:
            return True
        if topic.startswith(_TOPIC_HEAD):
            meter_id = topic[len(_TOPIC_HEAD) :].partition("/")[0]
            if meter_id:
                return self.owns(meter_id)
        return self.index == 0
