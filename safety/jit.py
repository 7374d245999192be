"""The one way this package compiles a function: numba in nopython mode, cached on disk.

``@compiled`` only marks a function; importing a module of this package neither imports
numba nor touches a file. ``build()`` (``SafetyEngine()`` calls it, before its first
batch) compiles every marked function lazily with numba and puts the compiled function
in place of the plain one wherever a module of this package holds it: as a module global
(``from safety.rules.episodes import fire`` included) or inside a module-level tuple (the
kernel's tuples of rule steps). numba resolves a compiled function's callees from those
globals when it first compiles, so every call inside compiled code is compiled code.
Before ``build()`` a marked function is plain Python with the same meaning (slow).

Compiled functions take numbers, numpy arrays and records only. The first call in a fresh
checkout compiles (about ten seconds); later processes load the cache. numba checks a
cached function against its own source file only, not the files of the functions it
calls: after a change to a rule module, the kernel's cache would still hold the old rule.
So the cache lives in a folder named by a hash of every source file of this package
(``compiled-<hash>`` under ``safety/__pycache__``, or ``~/.cache/gasguard`` when the
package folder is read-only): changed code never meets an old cache.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
PACKAGE = Path(__file__).resolve().parent

_marked: list[Callable[..., Any]] = []
_compiled: dict[int, Any] = {}  # id of a marked function -> its numba dispatcher


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


def compiled(function: F) -> F:
    """Mark ``function`` for compilation; after ``build()`` it is compiled at once."""
    if _compiled:
        return _dispatcher(function)
    _marked.append(function)
    return function


def build() -> None:
    """Compile every marked function (lazily, on its first call) and put it in place.
    Idempotent; the cache folder is chosen here, never at import."""
    if _compiled:
        _rebind()  # modules imported since hold plain functions of their own imports
        return
    import numba
    from numba.core.errors import NumbaExperimentalFeatureWarning

    # the kernel runs a tuple of rule steps with literal_unroll (safety/kernel.py): each
    # step is inlined as a direct call; numba types the tuple as "first-class functions"
    warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning)
    if not os.environ.get("NUMBA_CACHE_DIR"):  # an operator's explicit choice wins
        numba.config.CACHE_DIR = str(cache_folder(source_fingerprint()))  # type: ignore[attr-defined]
    for function in _marked:
        _dispatcher(function)
    _rebind()


def _dispatcher(function: Callable[..., Any]) -> Any:
    from numba import njit

    dispatcher = njit(nogil=True, error_model="numpy", cache=True)(function)
    _compiled[id(function)] = dispatcher
    return dispatcher


def _swap(value: Any) -> Any:
    if callable(value) and id(value) in _compiled and not hasattr(value, "py_func"):
        return _compiled[id(value)]
    if isinstance(value, tuple) and any(_swap(v) is not v for v in value):
        return tuple(_swap(v) for v in value)
    return value


def _rebind() -> None:
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "safety" or name.startswith("safety.")):
            continue
        namespace = vars(module)
        for key, value in list(namespace.items()):
            swapped = _swap(value)
            if swapped is not value:
                namespace[key] = swapped
