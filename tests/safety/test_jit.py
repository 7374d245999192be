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


PROBE = """
import os, pathlib, sys
made = []
real_mkdir, real_makedirs = os.mkdir, os.makedirs
os.mkdir = lambda path, *a, **k: (made.append(str(path)), real_mkdir(path, *a, **k))[1]
os.makedirs = lambda path, *a, **k: (made.append(str(path)), real_makedirs(path, *a, **k))[1]
import safety, contract.readings, contract.events, safety.config, safety.codes, contract.errors
import api.app, simulators.runner, meters.registry, ingest.decode
print(repr(('numba' in sys.modules, made)))
"""


def test_importing_the_core_and_the_services_loads_no_compiler_and_makes_no_folder() -> None:
    """Importing the values (``safety.domain``, now in ``contract``) used to import numba,
    hash every safety source and create the cache folder: the API and the simulators paid
    for the engine."""
    import ast
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    numba_loaded, folders_made = ast.literal_eval(out.strip().splitlines()[-1])
    assert not numba_loaded
    assert folders_made == []
