"""The benchmark suite: every benchmark in turn on this machine, on real Mosquitto and
InfluxDB, one JSON result, and the summary at the top of docs/benchmarks.md rewritten
(between its ``bench/run`` markers; the rest of that file is the analysis, by hand).

    .venv/bin/python -m bench.run            # about 20 minutes
    .venv/bin/python -m bench.run --quick    # shorter runs, smaller fleets: a smoke run

Benchmarks are not tests: CI does not run them. Each figure is reported with the machine
and the date of the run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, machine, status

BEGIN = "<!-- bench/run summary: begin -->"
END = "<!-- bench/run summary: end -->"

FULL = {
    "ingest": ["bench.ingest", "--duration", "60"],
    "commands": ["bench.commands", "--duration", "60", "--api"],
    "safety": ["bench.safety"],
    "simulator": ["bench.simulator", "--meters", "100000", "--interval", "60", "--duration", "90"],
}
QUICK = {
    "ingest": ["bench.ingest", "--duration", "15"],
    "commands": ["bench.commands", "--duration", "20", "--api", "--trips", "60"],
    "safety": ["bench.safety", "--meters", "2000", "--state-meters", "100000"],
    "simulator": ["bench.simulator", "--meters", "20000", "--interval", "20", "--duration", "20"],
}


def run_one(name: str, argv: list[str], folder: Path) -> dict[str, Any]:
    out = folder / f"{name}.json"
    status(f"{name}: {' '.join(argv)}")
    subprocess.run([sys.executable, "-m", *argv, "--out", str(out)], cwd=ROOT, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def half_load(ingest: dict[str, Any]) -> int:
    """Half of the single-reading messages/s the ingest run stored: at most half of the
    ingester's maximum on this machine today (the run may only show it keeping up with
    its offered rate, a lower bound of the maximum)."""
    return round(ingest["runs"][0]["messages_per_s"] / 2)


def summary(results: dict[str, Any], where: dict[str, Any]) -> str:
    ingest, commands = results["ingest"], results["commands"]
    safety, simulator = results["safety"], results["simulator"]
    single, batch = ingest["runs"][0], ingest["runs"][1]
    rows = [
        ("ingest, 1-reading messages", f"{single['messages_per_s']:,} msg/s "
         f"({single['ratio_to_mqtt_ceiling']} of the MQTT ceiling), {single['lost_readings']} lost",
         "≥ 15,000 msg/s"),
        ("ingest, 10-reading messages", f"{batch['readings_per_s']:,} readings/s "
         f"({batch['ratio_to_influx_ceiling']} of the InfluxDB ceiling), "
         f"{batch['lost_readings']} lost", "≥ 60,000 readings/s"),
        (f"detection → close at the meter, under {commands['load_messages_per_s']:,.0f} msg/s "
         "(half the single-reading rate above)", f"p50 {commands['latency_ms_p50']} ms, "
         f"p99 {commands['latency_ms_p99']} ms", f"p99 ≤ {commands['target_p99_ms']:g} ms"),
        ("replay", f"{safety['replay']['readings_per_s']:,} readings/s "
         f"({safety['replay']['ratio_to_parse_floor']} of the parse floor)", "≥ 250,000"),
        ("rule state per meter", f"{safety['state']['reserved']['engine_bytes_per_meter']} B "
         f"reserved, {safety['state']['grown']['engine_bytes_per_meter']} B grown, "
         f"at {safety['state']['meters']:,} meters", "≤ 300 B"),
        ("simulator", f"{simulator['meters']:,} meters: {simulator['received_messages_per_s']:,} "
         f"of {simulator['expected_messages_per_s']:,} msg/s, "
         f"{simulator['simulator_cpu_share']} of a core", "100,000 meters a process"),
    ]  # fmt: skip
    api = commands.get("api_under_load") or {"endpoints": {}}
    for path, figures in api["endpoints"].items():
        latency = f"p50 {figures['latency_ms_p50']} ms, p99 {figures['latency_ms_p99']} ms"
        rows.append((f"API `GET {path}` under load", f"{latency} ({figures['calls']} calls)", "—"))
    memory = (
        f"ingest {max(single['ingest_peak_rss_mb'], batch['ingest_peak_rss_mb'])} MB, "
        f"API {api.get('api_peak_rss_mb', '–')} MB, simulator "
        f"{simulator['simulator_peak_rss_mb']} MB, replay benchmark process "
        f"{safety['replay'].get('process_peak_rss_mb', '–')} MB"
    )
    rows.append(("peak memory (RSS)", memory, "—"))
    lines = [
        BEGIN,
        f"Latest `bench/run{' --quick' if where['quick'] else ''}` ({where['date']}, "
        f"{where['cpus']} × {where['cpu_model']}, "
        f"{where['memory_gib']} GiB, Python {where['python']}); raw: `{where['file']}`.",
        "",
        "| figure | measured | target |",
        "|---|---|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        END,
    ]
    return "\n".join(lines)


def rewrite_summary(doc: Path, block: str) -> None:
    text = doc.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        title, _, body = text.partition("\n")
        text = f"{title}\n\n{block}\n{body}"
    doc.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    folder = ROOT / "bench" / "results" / f"run-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    plan = QUICK if args.quick else FULL
    results: dict[str, Any] = {}
    for name, argv in plan.items():
        if name == "commands":  # the ingest path at half of what it was measured to carry
            argv = [*argv, "--load", str(half_load(results["ingest"]))]
        results[name] = run_one(name, argv, folder)
    kept = ROOT / "docs" / "results" / f"run-{stamp}{'-quick' if args.quick else ''}.json"
    where = {**machine(), "file": str(kept.relative_to(ROOT)), "quick": args.quick}
    report = {"machine": where, "quick": args.quick, "results": results}
    for path in (folder / "run.json", kept):
        path.write_text(json.dumps(report, indent=2) + "\n")
    rewrite_summary(args.doc, summary(results, where))
    status(f"wrote {kept} and the summary in {args.doc}")


if __name__ == "__main__":
    main()
