"""Safety engine benchmark (a benchmark, not a test): replay throughput against the floor
of merely parsing the same file with the same JSON library, and rule-state bytes per meter.

    .venv/bin/python -m bench.safety --meters 20000 --readings-per-meter 100 --state-meters 100000
Writes bench/results/safety-<timestamp>.json and prints a summary.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson

from bench.common import ROOT, machine, status
from gasguard.replay import replay
from safety.batch import BatchBuilder, reading_row
from safety.config import RulesConfig
from safety.engine import SafetyEngine
from safety.rulebook import STATE

T0 = 1_790_000_000_000


def write_replay_file(path: Path, meters: int, per_meter: int, seed: int = 7) -> int:
    """Meters reporting every minute, interleaved in time order like a recorded fleet."""
    rng = random.Random(seed)
    volumes = [rng.uniform(10, 3000) for _ in range(meters)]
    lines = 0
    with path.open("w") as out:
        for minute in range(per_meter):
            for meter in range(meters):
                flow = 0.0 if rng.random() < 0.7 else round(rng.uniform(0.2, 1.5), 3)
                volumes[meter] += flow / 60
                record = {
                    "type": "reading",
                    "meter": f"R{meter:06d}",
                    "ts": T0 + minute * 60_000,
                    "volume_m3": round(volumes[meter], 4),
                    "flow_m3h": flow,
                    "pressure_kpa": 2.0,
                    "battery_pct": 90,
                }
                out.write(json.dumps(record, separators=(",", ":")) + "\n")
                lines += 1
            if minute % 10 == 0:
                status(f"replay file: {lines:,} lines written")
    return lines


def parse_floor(path: Path) -> float:
    """Seconds to merely parse every line with the JSON library the replay reader uses."""
    started = time.perf_counter()
    with path.open() as source:
        for line in source:
            orjson.loads(line)
    return time.perf_counter() - started


def warm_up_seconds() -> float:
    """Load (or, after a code change, compile) the engine's compiled core: once per
    process, so it is timed apart from the replay."""
    started = time.perf_counter()
    line = json.dumps({"type": "reading", "meter": "W", "ts": T0, "volume_m3": 1.0})
    replay(io.StringIO(line + "\n"), io.StringIO(), RulesConfig(), log=io.StringIO())
    return time.perf_counter() - started


def replay_seconds(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with path.open() as source:
        stats = replay(source, io.StringIO(), RulesConfig(), log=sys.stderr)
    return time.perf_counter() - started, stats.readings


def state_bytes_per_meter(meters: int, reserve: bool) -> dict[str, float]:
    """Memory the engine keeps per meter once ``meters`` meters have each reported three
    readings with flow (every flow rule's episode running), as tracemalloc sees it."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    engine = SafetyEngine()
    if reserve:
        engine.reserve(meters)
    per_batch = 100_000
    for first in range(0, meters, per_batch):
        ids = [f"S{m:07d}" for m in range(first, min(meters, first + per_batch))]
        for k in range(3):
            batch = BatchBuilder()
            row = reading_row(T0 + k * 60_000, 1.0 + k * 0.01, 0.6, 2.0, 90.0, 1)
            batch.meter_ids.extend(ids)
            batch.rows.extend([row] * len(ids))
            engine.process_batch(batch.build())
        status(f"state: {first + len(ids):,} meters")
    del ids, batch
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return {
        "traced_bytes_per_meter": round(traced / meters, 1),
        "engine_bytes_per_meter": round(engine.state_bytes() / meters, 1),
        "record_bytes": STATE.itemsize,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=20_000)
    parser.add_argument("--readings-per-meter", type=int, default=100)
    parser.add_argument("--state-meters", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="gasguard-bench-") as tmp:
        path = Path(tmp) / "fleet.jsonl"
        lines = write_replay_file(path, args.meters, args.readings_per_meter)
        status("loading the compiled core")
        warm_up = warm_up_seconds()
        status("parsing floor")
        floor = parse_floor(path)
        status("replay")
        seconds, readings = replay_seconds(path)
    status(f"state bytes per meter over {args.state_meters:,} meters")
    grown = state_bytes_per_meter(args.state_meters, reserve=False)
    reserved = state_bytes_per_meter(args.state_meters, reserve=True)
    report["replay"] = {
        "lines": lines,
        "readings": readings,
        "seconds": round(seconds, 2),
        "readings_per_s": round(readings / seconds),
        "parse_only_seconds": round(floor, 2),
        "parse_only_lines_per_s": round(lines / floor),
        "ratio_to_parse_floor": round((readings / seconds) / (lines / floor), 3),
        "compiled_core_load_seconds": round(warm_up, 2),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    report["state"] = {"meters": args.state_meters, "grown": grown, "reserved": reserved}
    out = args.out or ROOT / "bench" / "results" / f"safety-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
