"""The saved differential corpora (tests/differential.py): the current decoder and engine
give exactly the outcomes that gasguard gave before the renovation of issue 19 began
(commit cc440c6), message by message and decision by decision."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path

from tests.differential import (
    DECODE_FILE,
    REPLAY_FILE,
    decode_outcome,
    messy,
    replay_outcome,
    simulated_lines,
)

DATA = Path(__file__).resolve().parents[1] / "data"


def test_the_decoder_gives_the_saved_outcome_of_every_message() -> None:
    differences = []
    count = 0
    with gzip.open(DATA / DECODE_FILE, "rt") as corpus:
        for line in corpus:
            record = json.loads(line)
            payload = base64.b64decode(record["payload"])
            now = json.loads(json.dumps(decode_outcome(record["topic"], payload)))
            count += 1
            if now != record["outcome"]:
                differences.append((record["topic"], payload[:80], now, record["outcome"]))
    assert count == 4_000
    assert not differences, f"{len(differences)} differ; first: {differences[:2]}"


def test_the_engine_gives_the_saved_decisions_for_a_messy_replay(tmp_path: Path) -> None:
    with gzip.open(DATA / REPLAY_FILE, "rt") as saved:
        expected = json.load(saved)
    lines = messy(simulated_lines(tmp_path))
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    assert digest == expected["input_sha256"], (
        "the simulator's output changed: regenerate the corpus from the commit before the "
        "change (tests/differential.py) and say why in the commit"
    )
    now = replay_outcome(lines, tmp_path)
    assert len(now["decisions"]) == len(expected["decisions"]) == 171
    assert now["decisions"] == expected["decisions"]
    assert now["stderr"] == expected["stderr"]  # each rejected line and its reason
