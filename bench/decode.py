"""Payload decoder benchmark (a benchmark, not a test): how fast ``ingest.decode`` turns
meters' MQTT payloads into readings, against the ceiling of merely parsing the same
payloads with the same JSON library, in the same run.

    .venv/bin/python -m bench.decode --messages 200000

A realistic mix: 80 % single readings with every field, 20 % batches of 10. Prints
readings/s and the ratio to the parse-only ceiling; writes bench/results/decode-<ts>.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from bench.common import ROOT, best_of, machine, status
from contract.json_text import parse_json
from ingest.config import DecodeLimits
from ingest.decode import decode

NOW = 1_790_000_000_000


def payloads(count: int, seed: int = 3) -> list[tuple[str, bytes, int]]:
    """(topic, payload, readings in it)."""
    rng = random.Random(seed)

    def reading(ts: int) -> dict[str, object]:
        return {
            "ts": ts,
            "volume_m3": round(rng.uniform(10, 3000), 3),
            "flow_m3h": round(rng.uniform(0, 1.5), 3),
            "pressure_kpa": 2.0,
            "temperature_c": 18.5,
            "battery_pct": 90,
            "valve": "open",
        }

    out = []
    for n in range(count):
        topic = f"gas/v1/meters/M{n % 5000:05d}/telemetry"
        if rng.random() < 0.8:
            out.append((topic, json.dumps(reading(NOW - n)).encode(), 1))
        else:
            batch = {"seq": n, "readings": [reading(NOW - n - i * 60_000) for i in range(10)]}
            out.append((topic, json.dumps(batch).encode(), 10))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    messages = payloads(args.messages)
    readings = sum(n for _t, _p, n in messages)
    limits = DecodeLimits()
    status(f"{len(messages):,} messages, {readings:,} readings")

    def parse_only() -> None:
        for _topic, payload, _n in messages:
            parse_json(payload)

    def decode_all() -> None:
        for topic, payload, _n in messages:
            decode(topic, payload, NOW, limits)

    ceiling_s = best_of(args.runs, parse_only)
    decode_s = best_of(args.runs, decode_all)
    result = {
        "machine": machine(),
        "messages": len(messages),
        "readings": readings,
        "parse_only_readings_per_s": round(readings / ceiling_s),
        "decode_readings_per_s": round(readings / decode_s),
        "decode_to_parse_ratio": round(decode_s / ceiling_s, 2),
    }
    out = args.out or ROOT / "bench" / "results" / f"decode-{int(time.time())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(
        f"decode: {result['decode_readings_per_s']:,} readings/s; parsing alone "
        f"{result['parse_only_readings_per_s']:,}; decode takes "
        f"{result['decode_to_parse_ratio']}x the parse time ({out})"
    )


if __name__ == "__main__":
    main()
