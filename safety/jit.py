"""The one way this package compiles a function: numba in nopython mode, cached on disk.

Compiled functions take numbers and numpy arrays only. The first call in a fresh checkout
compiles (about ten seconds); later processes load the cache.

numba checks a cached function against its own source file only, not the files of the
functions it calls: after a change to a rule module, the kernel's cache would still hold
the old rule. So the cache lives in a folder named by a hash of every source file of this
package (``compiled-<hash>`` under ``safety/__pycache__``, or ``~/.cache/gasguard`` when
the package folder is read-only): changed code never meets an old cache. The folder is
made on the first ``ensure_cache()``, not at import.
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


_DISPATCHERS: list[Any] = []
_cache_ready = False


def ensure_cache() -> None:
    """Give every compiled function its on-disk cache, in the folder named by the sources'
    fingerprint. Called before the first compile (``SafetyEngine()`` does); importing this
    package does no I/O: it neither hashes the sources nor creates folders. A function
    compiled before this is called compiles without a cache (correct, only slower)."""
    global _cache_ready
    if _cache_ready:
        return
    if not os.environ.get("NUMBA_CACHE_DIR"):  # an operator's explicit choice wins
        numba.config.CACHE_DIR = str(cache_folder(source_fingerprint()))  # type: ignore[attr-defined]
    for dispatcher in _DISPATCHERS:
        if not dispatcher.signatures:  # not compiled yet
            dispatcher.enable_caching()
    _cache_ready = True


def compiled(function: F) -> F:
    dispatcher = njit(nogil=True, error_model="numpy")(function)
    if _cache_ready:
        dispatcher.enable_caching()
    else:
        _DISPATCHERS.append(dispatcher)
    return cast(F, dispatcher)
