"""The compiled code's cache is named by the package's sources, so a change to any rule
module can never run against an old cache (numba alone checks only the caller's file)."""

from __future__ import annotations

from pathlib import Path

from safety.jit import source_fingerprint


def test_the_fingerprint_changes_with_any_source_file(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "kernel.py").write_text("x = 1\n")
    (tmp_path / "rules" / "over_flow.py").write_text("limit = 4.5\n")
    before = source_fingerprint(tmp_path)
    assert source_fingerprint(tmp_path) == before
    (tmp_path / "rules" / "over_flow.py").write_text("limit = 4.6\n")
    assert source_fingerprint(tmp_path) != before
