"""Saved differential corpora: inputs and the outcomes an earlier gasguard gave them, so
that a renovation proves it changed no behaviour (issue 19).

* **decode**: 4,000 MQTT messages (valid readings and batches, events, replies, statuses,
  and every kind of malformed payload, from a seeded generator) with what the decoder made
  of each: readings, events, reply, status, rejections with code and reason, seq.
* **snapshot**: an engine snapshot taken in the middle of the replay below, and the
  decisions the same engine gave after it (``tests/safety/test_snapshot.py``).
* **replay**: the scenario library fast-forwarded (``gasguard simulate --to-file``, 98
  meters, 2 days, every injected fault) and then made messy with a seeded hand: lines
  duplicated, neighbours swapped, some lines broken; and the decisions and rejections
  ``gasguard replay`` gave for it.

The expected outcomes are written by running this file with an earlier checkout first on
the path (it imports nothing from ``tests``)::

    git worktree add /tmp/old <commit>
    PYTHONPATH=/tmp/old python tests/differential.py write tests/data

``tests/gasguard/test_differential.py`` compares the current code against them.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

DECODE_FILE = "decode_corpus.jsonl.gz"
REPLAY_FILE = "replay_corpus.json.gz"
RECEIVED_MS = 1_790_000_000_000
SIMULATE = ["--households", "30", "--restaurants", "3", "--industries", "2", "--days", "2"]


# -- the decode corpus --------------------------------------------------------------------


def _number(rng: random.Random) -> Any:
    return rng.choice(
        [0, 1, 2.5, -1, -0.001, 1e308, 10**400, 100, 101, 99.9, "3", None, True, [], {}]
        + [round(rng.uniform(0, 5000), 3) for _ in range(8)]
    )


def _reading(rng: random.Random, meter: str) -> dict[str, Any]:
    item: dict[str, Any] = {"ts": RECEIVED_MS - rng.randrange(0, 86_400_000)}
    if rng.random() < 0.1:
        item["ts"] = rng.choice(
            [-5, 0, 2**60, "2026-12-01T10:00:00Z", "2026-12-01 10:00", "yesterday", 1.5,
             RECEIVED_MS + 10**9, RECEIVED_MS - 40 * 86_400_000]
        )  # fmt: skip
    if rng.random() < 0.95:
        item["volume_m3"] = round(rng.uniform(0, 9999), 3)
    for key in ("flow_m3h", "pressure_kpa", "temperature_c", "battery_pct"):
        if rng.random() < 0.6:
            item[key] = round(rng.uniform(0, 6), 3) if rng.random() < 0.85 else _number(rng)
    if rng.random() < 0.5:
        item["valve"] = rng.choice(["open", "closed", "fault", "ajar", 1, None])
    if rng.random() < 0.05:
        item[rng.choice(["meter_id", "meter"])] = rng.choice([meter, "OTHER"])
    if rng.random() < 0.05:
        item["extra"] = "ignored"
    return item


def _message(rng: random.Random) -> tuple[str, bytes]:
    meter = rng.choice(["M1", "M2", "GZ-0001", "a_b"])
    kind = rng.choices(
        ["telemetry", "events", "replies", "status", "commands", "odd"], [60, 12, 10, 8, 2, 8]
    )[0]
    if kind == "odd":
        topic = rng.choice(["gas/v1/meters/M 1/telemetry", "gas/v1/meters/M1/x", "gas/v2/x"])
        return topic, b"{}"
    topic = f"gas/v1/meters/{meter}/{kind}"
    body: Any
    if kind == "telemetry":
        if rng.random() < 0.4:
            body = {"readings": [_reading(rng, meter) for _ in range(rng.randrange(0, 6))]}
            if rng.random() < 0.7:
                body["seq"] = rng.choice([1, 7, -1, 2**53, "3", 1.0])
        else:
            body = _reading(rng, meter)
    elif kind == "events":
        body = {
            "ts": RECEIVED_MS - rng.randrange(0, 3_600_000),
            "event": rng.choice(["tamper", "seismic", "detector_alarm", "valve_closed", "boom"]),
        }
        if rng.random() < 0.1:
            del body["ts"]
    elif kind == "replies":
        body = {
            "id": rng.choice(["c1", "c2", 5]),
            "result": rng.choice(["done", "refused", "failed", "maybe"]),
            "ts": RECEIVED_MS,
            "valve": rng.choice(["open", "closed", None, "ajar"]),
            "sig": "ab" * 8,
        }
    elif kind == "status":
        return topic, rng.choice([b"online", b"offline", b" online\n", b"sleeping", b"\xff"])
    else:
        body = {"action": "close"}
    payload = json.dumps(body).encode()
    roll = rng.random()
    if roll < 0.04:
        payload = payload[: rng.randrange(0, len(payload))]  # truncated
    elif roll < 0.06:
        payload = b"\xff\xfe" + payload  # not UTF-8
    elif roll < 0.08:
        payload = json.dumps([body]).encode()  # not an object
    elif roll < 0.09:
        payload = b'{"ts": NaN, "volume_m3": Infinity}'
    return topic, payload


def decode_messages(count: int = 4_000, seed: int = 19) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    return [_message(rng) for _ in range(count)]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def decode_outcome(topic: str, payload: bytes) -> Any:
    from ingest.config import DecodeLimits
    from ingest.decode import decode

    outcome = _plain(decode(topic, payload, RECEIVED_MS, DecodeLimits()))
    for name in ADDED_SINCE_THE_CORPUS:  # empty in every saved outcome: not there then
        if outcome.get(name) in (None, [], ()):
            outcome.pop(name, None)
    return outcome


# Fields of the decoder's outcome added after the corpus was saved (issue 21: the answers
# of CJ/T 188 meters and the platforms' command results, the alarms meters report in
# their own codes and DLMS meters' answers, which no message of the corpus is).
ADDED_SINCE_THE_CORPUS = ("sequence_reply", "platform_reply", "meter_alarms", "dlms_answer")


# -- the replay corpus --------------------------------------------------------------------


def simulated_lines(folder: Path) -> list[str]:
    path = folder / "library.jsonl"
    command = [sys.executable, "-m", "gasguard.cli", "simulate", "--to-file", str(path)]
    subprocess.run([*command, *SIMULATE], check=True, capture_output=True)
    return path.read_text().splitlines()


def messy(lines: list[str], seed: int = 19) -> list[str]:
    """Duplicates, neighbours swapped, broken lines: what a real export looks like."""
    rng = random.Random(seed)
    out: list[str] = []
    for line in lines:
        roll = rng.random()
        if roll < 0.002:
            out.append(line[: len(line) // 2])  # cut short
        elif roll < 0.003:
            out.append(line.replace('"volume_m3":', '"volume_m3":-'))  # negative register
        elif roll < 0.004:
            out.append(line.replace('"ts":', '"ts":"soon","was":'))
        else:
            out.append(line)
        if rng.random() < 0.02:
            out.append(line)  # duplicated
        if len(out) > 2 and rng.random() < 0.03:
            out[-1], out[-2] = out[-2], out[-1]  # out of order
    return out


def replay_outcome(lines: list[str], folder: Path) -> dict[str, list[str]]:
    path = folder / "messy.jsonl"
    path.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "gasguard.cli", "replay", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return {
        "decisions": done.stdout.splitlines(),
        "stderr": [line for line in done.stderr.splitlines() if line.startswith("replay:")],
    }


# -- the snapshot corpus -------------------------------------------------------------------

SNAPSHOT_FILE = "snapshot_before_rule_units.json.gz"


def snapshot_items() -> tuple[list[Any], list[Any]]:
    """The messy replay's meter declarations and its readings and events (bad lines left
    out), as the engine takes them."""
    import tempfile

    from contract.profiles import MeterProfile
    from gasguard.replay import parse_line

    with tempfile.TemporaryDirectory() as tmp:
        lines = messy(simulated_lines(Path(tmp)))
    profiles, items = [], []
    for line in lines:
        try:
            value = parse_line(line)
        except Exception:
            continue
        (profiles if isinstance(value, MeterProfile) else items).append(value)
    return profiles, items


def write_snapshot(folder: Path) -> None:
    """An engine snapshot taken once 80 decisions were made (500 items at a time), and the
    decisions the same engine gave for the rest of the items."""
    from safety import SafetyEngine
    from safety.snapshot import dump

    profiles, items = snapshot_items()
    engine = SafetyEngine(profiles={p.meter_id: p for p in profiles})
    before: list[Any] = []
    split = 0
    while len(before) < 80:
        before += engine.process(items[split : split + 500])
        split += 500
    snapshot = base64.b64encode(dump(engine)).decode()
    after = [d.as_dict() for d in engine.process(items[split:])]
    record = {"split": split, "snapshot": snapshot, "before": [d.as_dict() for d in before]}
    with gzip.open(folder / SNAPSHOT_FILE, "wt") as out:
        json.dump({**record, "after": after}, out)


# -- writing the expected outcomes (with an earlier checkout first on the path) -----------


def write(folder: Path) -> None:
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / DECODE_FILE, "wt") as out:
        for topic, payload in decode_messages():
            record = {
                "topic": topic,
                "payload": base64.b64encode(payload).decode(),
                "outcome": decode_outcome(topic, payload),
            }
            out.write(json.dumps(record, sort_keys=True) + "\n")
    with tempfile.TemporaryDirectory() as tmp:
        lines = messy(simulated_lines(Path(tmp)))
        import hashlib

        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        expected = {"input_sha256": digest, **replay_outcome(lines, Path(tmp))}
    with gzip.open(folder / REPLAY_FILE, "wt") as out:
        json.dump(expected, out, indent=0)
    write_snapshot(folder)
    print(f"wrote {folder / DECODE_FILE}, {folder / REPLAY_FILE} and {folder / SNAPSHOT_FILE}")


if __name__ == "__main__":
    if sys.argv[1:2] != ["write"] or len(sys.argv) != 3:
        sys.exit("usage: PYTHONPATH=<earlier checkout> python tests/differential.py write DIR")
    write(Path(sys.argv[2]))
