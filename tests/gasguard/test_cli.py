"""The command line: subcommands that are not covered by their own test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from gasguard.cli import main


def test_connections_report_prints_the_indicator_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from meters.connections import NewApplication
    from meters.views import Actor
    from tests.conftest import sqlite_registry

    registry = sqlite_registry(tmp_path)
    otto = Actor("otto", "operator", "t")
    day = 86_400_000
    start = 1_772_380_800_000  # 2026-03-02 00:00 in Guangzhou
    new = NewApplication("guangzhou", "A", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, otto, start)
    registry.connections.commission(application.id, "M1", otto, start)
    registry.connections.gas_on({"M1": start + 4 * day}, start + 4 * day)
    monkeypatch.setenv("GASGUARD_DB_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    assert (
        main(["connections", "report", "--from", "2026-03-01", "--to", "2026-04-01", "--csv"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("policy,category") and len(lines) == 3
    assert lines[2].startswith("guangzhou,all,2,1,1,1.0,4.0")
    assert main(["connections", "report", "--from", "2026-04-01", "--to", "2026-03-01"]) == 1
