"""Meter id -> slot in the packed state, without a Python object per meter.

Ids (1-32 characters of A-Z a-z 0-9 _ -, ``contract.protocol``) are kept as fixed 32-byte
rows; an open-addressing table of int32 slots, at most half full, finds them. Lookups and
inserts run compiled, a whole batch at a time.
"""

from __future__ import annotations

import numpy as np

from safety.jit import compiled

ID_BYTES = 32
EMPTY = -1


@compiled
def _hash(key: np.ndarray) -> int:
    value = np.uint64(14695981039346656037)
    for byte in key:
        if byte == 0:
            break
        value = (value ^ np.uint64(byte)) * np.uint64(1099511628211)
    return int(value >> np.uint64(1))


@compiled
def _same(row: np.ndarray, key: np.ndarray) -> bool:
    for k in range(ID_BYTES):  # noqa: SIM110 (a plain loop compiles to a plain loop)
        if row[k] != key[k]:
            return False
    return True


@compiled
def _probe(ids: np.ndarray, table: np.ndarray, key: np.ndarray) -> int:
    """The table position holding ``key``'s slot, or the empty one where it belongs."""
    mask = table.shape[0] - 1
    position = _hash(key) & mask
    while table[position] != EMPTY and not _same(ids[table[position]], key):
        position = (position + 1) & mask
    return position


@compiled
def _lookup(ids: np.ndarray, table: np.ndarray, key: np.ndarray) -> int:
    return table[_probe(ids, table, key)]


@compiled
def _slots(
    ids: np.ndarray,
    table: np.ndarray,
    count: np.ndarray,
    keys: np.ndarray,
    slots: np.ndarray,
    start: int,
) -> int:
    """Fill ``slots`` from ``start`` on; stops before adding a meter that would not fit
    (no free id row, or the table more than half full) and returns where it stopped."""
    room = min(ids.shape[0], table.shape[0] // 2)
    for k in range(start, keys.shape[0]):
        position = _probe(ids, table, keys[k])
        if table[position] == EMPTY:
            if count[0] >= room:
                return k
            table[position] = count[0]
            ids[count[0]] = keys[k]
            count[0] += 1
        slots[k] = table[position]
    return keys.shape[0]


@compiled
def _rebuild(ids: np.ndarray, count: int, table: np.ndarray) -> None:
    mask = table.shape[0] - 1
    for slot in range(count):
        position = _hash(ids[slot]) & mask
        while table[position] != EMPTY:
            position = (position + 1) & mask
        table[position] = slot


def encode(meter_ids: list[str]) -> np.ndarray:
    """uint8[n, 32] rows of ASCII ids (the caller has checked them)."""
    return np.array(meter_ids, dtype=f"S{ID_BYTES}").view(np.uint8).reshape(-1, ID_BYTES)


class MeterIndex:
    def __init__(self, capacity: int = 1024) -> None:
        self._count = np.zeros(1, dtype=np.int64)
        self._ids = np.zeros((capacity, ID_BYTES), dtype=np.uint8)
        self._table = np.full(_table_size(capacity), EMPTY, dtype=np.int32)

    def __len__(self) -> int:
        return int(self._count[0])

    @property
    def capacity(self) -> int:
        return int(self._ids.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self._ids.nbytes + self._table.nbytes)

    def reserve(self, meters: int) -> None:
        """Room for ``meters`` meters in all (grows, never shrinks)."""
        if meters <= self.capacity:
            return
        ids = np.zeros((meters, ID_BYTES), dtype=np.uint8)
        ids[: len(self)] = self._ids[: len(self)]
        self._ids = ids
        if self._table.shape[0] < _table_size(meters):
            self._table = np.full(_table_size(meters), EMPTY, dtype=np.int32)
            _rebuild(self._ids, len(self), self._table)

    def slots(self, keys: np.ndarray) -> np.ndarray:
        """The slot of each encoded id; unknown ids get the next free slots (the index
        grows by a quarter when full)."""
        slots = np.empty(keys.shape[0], dtype=np.int64)
        done = _slots(self._ids, self._table, self._count, keys, slots, 0)
        while done < keys.shape[0]:
            self.reserve(self.capacity + max(self.capacity // 4, 1024))
            done = _slots(self._ids, self._table, self._count, keys, slots, done)
        return slots

    def find(self, meter_id: str) -> int | None:
        """The slot of a known meter, or None (adds nothing)."""
        slot = int(_lookup(self._ids, self._table, encode([meter_id])[0]))
        return None if slot == EMPTY else slot

    def meter_id(self, slot: int) -> str:
        return bytes(self._ids[slot]).rstrip(b"\0").decode("ascii")

    def meter_ids(self) -> list[str]:
        raw = self._ids[: len(self)].copy().view(f"S{ID_BYTES}").ravel()
        return [value.decode("ascii") for value in raw]

    def encoded(self) -> np.ndarray:
        return self._ids[: len(self)]


def _table_size(meters: int) -> int:
    size = 1024
    while size < 2 * meters:
        size *= 2
    return size
