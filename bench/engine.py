"""The compiled engine alone (a benchmark, not a test): a prebuilt batch of readings
through ``SafetyEngine.process_batch``, no parsing, best of three fresh engines.

    .venv/bin/python -m bench.engine --meters 20000 --readings-per-meter 100
Prints seconds per run and readings/s of the best. Used to compare the kernel old against
new (docs/benchmarks.md): run it from each checkout.
"""

from __future__ import annotations

import argparse
import random
import time

from safety.batch import Batch, BatchBuilder, reading_row
from safety.engine import SafetyEngine

T0 = 1_790_000_000_000


def fleet_batch(meters: int, per_meter: int, seed: int = 7) -> Batch:
    """Meters reporting every minute, 30 % of readings with flow, as one batch."""
    rng = random.Random(seed)
    volumes = [rng.uniform(10, 3000) for _ in range(meters)]
    ids = [f"R{m:06d}" for m in range(meters)]
    builder = BatchBuilder()
    for minute in range(per_meter):
        for meter in range(meters):
            flow = 0.0 if rng.random() < 0.7 else round(rng.uniform(0.2, 1.5), 3)
            volumes[meter] += flow / 60
            builder.meter_ids.append(ids[meter])
            row = reading_row(T0 + minute * 60_000, volumes[meter], flow, 2.0, 90.0, 1)
            builder.rows.append(row)
    return builder.build()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--meters", type=int, default=20_000)
    parser.add_argument("--readings-per-meter", type=int, default=100)
    args = parser.parse_args()
    batch = fleet_batch(args.meters, args.readings_per_meter)
    SafetyEngine().process_batch(batch)  # compile or load the cache
    runs = []
    for _ in range(3):
        engine = SafetyEngine()
        engine.slots(batch.keys())
        started = time.perf_counter()
        engine.process_batch(batch)
        runs.append(time.perf_counter() - started)
    best = min(runs)
    print(f"runs {[round(r, 3) for r in runs]} s; best {len(batch) / best:,.0f} readings/s")


if __name__ == "__main__":
    main()
