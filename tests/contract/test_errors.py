"""One exception root for the product (issue 19): every package's own errors are a
``GasguardError``, so the CLI (and any caller) catches one class; library errors are
translated at the edges (the token service's JWT errors, for one)."""

from __future__ import annotations

import pytest

from api.errors import ApiError, InvalidToken
from api.tokens import TokenService
from contract.errors import GasguardError
from gasguard.errors import ServerStartError
from gasguard.settings import SettingsError
from ingest.errors import IngestError
from ingest.spool import SpoolError
from meters.errors import MetersError
from safety.errors import ConfigError, SafetyError
from telemetry.errors import StoreRejected, TelemetryError


@pytest.mark.parametrize(
    "error",
    [ApiError, InvalidToken, ServerStartError, SettingsError, IngestError, SpoolError,
     MetersError, TelemetryError, StoreRejected, SafetyError, ConfigError],
)  # fmt: skip
def test_every_package_error_has_the_one_root(error: type[Exception]) -> None:
    assert issubclass(error, GasguardError)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_bad_tokens_are_the_apis_own_error_not_the_jwt_librarys(token: str) -> None:
    tokens = TokenService(b"k" * 32, 60, lambda: 1_790_000_000_000)
    with pytest.raises(InvalidToken):
        tokens.verify(token)
    other = TokenService(b"x" * 32, 60, lambda: 1_790_000_000_000)
    with pytest.raises(InvalidToken):
        tokens.verify(other.issue("sam").token)  # signed by another key
    later = TokenService(b"k" * 32, 60, lambda: 1_790_000_061_000)
    with pytest.raises(InvalidToken, match="expired"):
        later.verify(tokens.issue("sam").token)
