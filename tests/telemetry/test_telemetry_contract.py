"""One contract, every telemetry backend: the embedded SQLite file and a real influxd."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.readings import Reading
from gasguard.servers import InfluxServer
from telemetry import InfluxTelemetryStore, SqliteTelemetryStore, TelemetryStore
from telemetry.errors import StoreRejected, StoreUnavailable

T0 = 1_790_000_000_000


@pytest.fixture(params=["sqlite", "influxdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TelemetryStore]:
    if request.param == "sqlite":
        backend: TelemetryStore = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    else:
        influxd: InfluxServer = request.getfixturevalue("influxd")
        influx = InfluxTelemetryStore(influxd.url, f"contract_{uuid.uuid4().hex[:8]}")
        influx.ensure_database()
        backend = influx
    yield backend
    backend.close()


def full(meter: str, ts: int, volume: float) -> Reading:
    return Reading(meter, ts, volume, 0.25, 2.05, 24.5, 88.0, "open")


def test_written_readings_read_back_exactly(store: TelemetryStore) -> None:
    readings = [full("M1", T0 + i * 60_000, 10.0 + i / 100) for i in range(5)]
    store.write(readings)
    assert store.readings("M1", T0, T0 + 3600_000, 100) == readings
    assert store.count("M1") == 5


def test_a_meter_id_with_a_line_break_is_refused_and_nothing_is_written(
    store: TelemetryStore,
) -> None:
    with pytest.raises(StoreRejected):
        store.write([full("M1", T0, 1.0), full("M1\nx", T0, 1.0)])
    assert store.count() == 0


def test_counts_per_meter_over_a_range(store: TelemetryStore) -> None:
    store.write([full("A", T0 + i * 1000, 1.0 + i) for i in range(5)])
    store.write([full("B", T0 + i * 1000, 1.0 + i) for i in range(2)])
    assert store.counts(T0, T0 + 5000) == {"A": 5, "B": 2}
    assert store.counts(T0 + 1000, T0 + 3000) == {"A": 2, "B": 1}
    assert store.counts(T0 + 10_000, T0 + 20_000) == {}


def test_absent_fields_stay_absent(store: TelemetryStore) -> None:
    store.write([Reading("M1", T0, 1.5)])
    assert store.readings("M1", T0, T0 + 1, 10) == [Reading("M1", T0, 1.5)]


def test_range_is_start_inclusive_end_exclusive_and_ordered(store: TelemetryStore) -> None:
    store.write([full("M1", T0 + i * 1000, float(i)) for i in (4, 0, 3, 1, 2)])
    got = store.readings("M1", T0 + 1000, T0 + 4000, 100)
    assert [r.ts_ms for r in got] == [T0 + 1000, T0 + 2000, T0 + 3000]


def test_limit_keeps_the_oldest(store: TelemetryStore) -> None:
    store.write([full("M1", T0 + i * 1000, float(i)) for i in range(10)])
    assert [r.ts_ms for r in store.readings("M1", T0, T0 + 10_000, 3)] == [T0, T0 + 1000, T0 + 2000]


def test_same_point_again_overwrites_its_fields_and_keeps_the_others(store: TelemetryStore) -> None:
    store.write([full("M1", T0, 5.0)])
    store.write([Reading("M1", T0, 5.5, flow_m3h=0.0)])
    (point,) = store.readings("M1", T0, T0 + 1, 10)
    assert (point.volume_m3, point.flow_m3h, point.pressure_kpa, point.valve) == (
        5.5,
        0.0,
        2.05,
        "open",
    )
    assert store.count() == 1


def test_a_replayed_write_is_harmless(store: TelemetryStore) -> None:
    batch = [full("M1", T0 + i, float(i)) for i in range(50)]
    store.write(batch)
    store.write(batch)
    assert store.count("M1") == 50


def test_meters_are_separate_and_latest_is_the_newest(store: TelemetryStore) -> None:
    store.write(
        [
            full("A", T0, 1.0),
            full("B", T0 + 5, 2.0),
            full("A", T0 + 10, 3.0),
            full("A", T0 + 2, 9.0),
        ]
    )
    assert [r.volume_m3 for r in store.readings("A", T0, T0 + 100, 10)] == [1.0, 9.0, 3.0]
    latest = store.latest("A")
    assert latest is not None and latest.ts_ms == T0 + 10
    assert store.latest("nobody") is None
    assert store.count() == 4


def test_empty_write_is_a_no_op_and_ping_answers(store: TelemetryStore) -> None:
    store.write([])
    assert store.count() == 0
    assert store.ping()


def test_influx_down_is_unavailable_not_lost() -> None:
    from gasguard.servers import free_port

    store = InfluxTelemetryStore(f"http://127.0.0.1:{free_port()}", "gasguard", timeout_s=1)
    with pytest.raises(StoreUnavailable):
        store.write([full("M1", T0, 1.0)])
    assert not store.ping()


def test_influx_field_type_conflict_is_rejected(influxd: InfluxServer) -> None:
    store = InfluxTelemetryStore(influxd.url, f"conflict_{uuid.uuid4().hex[:8]}")
    store.ensure_database()
    store._request(
        "POST",
        "/write",
        params={"db": store.database, "precision": "ms"},
        content=f"gas_reading,meter_id=M1 valve=1i {T0}".encode(),
    )
    with pytest.raises(StoreRejected):
        store.write([full("M1", T0, 1.0)])
