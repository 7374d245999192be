"""The one way this package compiles a function: numba in nopython mode, cached on disk.

Compiled functions take numbers and numpy arrays only. The first call in a fresh checkout
compiles (about ten seconds); later processes load the cache.

numba checks a cached function against its own source file only, not the files of the
functions it calls: after a change to a rule module, the kernel's cache would still hold
the old rule. So the cache lives in a folder named by a hash of every source file of this
package (``compiled-<hash>`` under ``safety/__pycache__``, or ``~/.cache/gasguard`` when
the package folder is read-only): changed code never meets an old cache.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numba
from numba import njit

F = TypeVar("F", bound=Callable[..., Any])
PACKAGE = Path(__file__).resolve().parent


def source_fingerprint(package: Path = PACKAGE) -> str:
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_folder(fingerprint: str) -> Path:
    for parent in (PACKAGE / "__pycache__", Path.home() / ".cache" / "gasguard"):
        folder = parent / f"compiled-{fingerprint}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=folder).close()
        except OSError:
            continue
        return folder
    return Path(tempfile.mkdtemp(prefix="gasguard-compiled-"))


def _use_fingerprinted_cache() -> None:
    if not os.environ.get("NUMBA_CACHE_DIR"):  # an operator's explicit choice wins
        numba.config.CACHE_DIR = str(cache_folder(source_fingerprint()))  # type: ignore[attr-defined]


_use_fingerprinted_cache()


def compiled(function: F) -> F:
    return cast(F, njit(cache=True, nogil=True, error_model="numpy")(function))
