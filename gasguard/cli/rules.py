"""``gasguard replay`` and ``rules show``: the safety rules over a file, and their configuration."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gasguard.settings import Settings
from safety.config import RulesConfig


def _rules(path: Path | None, settings: Settings) -> RulesConfig:
    from gasguard import wiring

    return wiring.rules_config(
        settings if path is None else settings.model_copy(update={"rules_file": path})
    )


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard.replay import replay
    from gasguard.runtime import tune_gc_for_streaming

    tune_gc_for_streaming()
    config = _rules(args.config, settings)
    with open(args.input, encoding="utf-8") as source:
        stats = replay(source, sys.stdout, config)
    print(
        f"replay: {stats.lines} lines, {stats.readings} readings, {stats.events} events, "
        f"{stats.rejected} rejected, {stats.decisions} decisions",
        file=sys.stderr,
    )
    return 0


def cmd_rules_show(settings: Settings, args: argparse.Namespace) -> int:
    print(json.dumps(_rules(args.config, settings).as_dict(), indent=2))
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = sub.add_parser("replay", help="run the safety rules over a recorded JSONL file")
    replay.add_argument("input", type=Path)
    replay.add_argument("--config", type=Path, help="rules TOML file")
    replay.set_defaults(run=cmd_replay)

    rules = sub.add_parser("rules", help="the safety rules configuration")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    show = rules_sub.add_parser("show", help="print the effective rule configuration")
    show.add_argument("--config", type=Path, help="rules TOML file")
    show.set_defaults(run=cmd_rules_show)
