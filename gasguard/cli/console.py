"""Who runs a CLI command that changes the world, as the audit log records it."""

from __future__ import annotations

import os

from meters.views import Actor


def console_actor() -> Actor:
    """The person at the console (their login name) with an administrator's rights: the
    CLI runs on the server, where only administrators have a shell."""
    return Actor(os.environ.get("USER", "console"), "admin", "cli")
