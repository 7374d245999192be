"""Tests that call compiled functions without an engine (the index, a rule's step) use the
same compiled functions and on-disk cache as the engine."""

from __future__ import annotations

import pytest

from safety import jit


@pytest.fixture(scope="session", autouse=True)
def compiled_cache() -> None:
    jit.build()
