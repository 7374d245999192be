"""A mailbox for aiosmtpd, the tests' real SMTP server: it keeps each envelope it took."""

from __future__ import annotations

from typing import Any


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(envelope)
        return "250 OK"
