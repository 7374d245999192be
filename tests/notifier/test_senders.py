"""Mail over a real SMTP server (aiosmtpd) that requires STARTTLS and a login, with a
certificate from a throw-away authority: the mail goes when the channel upgrades and
logs in; a wrong password or a channel that does not upgrade fails at once (an SMTP 5xx:
trying again does not mend it)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gasguard.servers import free_port
from notifier.senders import Sender
from notify.channels import Built, Channel, Mail
from tests.smtp import Mailbox
from tests.tls import Authority, make_ca

pytestmark = pytest.mark.integration
USER, PASSWORD = "alerts@gas.example", "s3cret-pass"


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> AuthResult:
    ok = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return make_ca(tmp_path / "ca")


@pytest.fixture
def tls_smtp(authority: Authority) -> Iterator[tuple[Mailbox, int]]:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(authority.server_cert, authority.server_key)
    box, port = Mailbox(), free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=check_login,
        auth_required=True,
    )
    controller.start()
    yield box, port
    controller.stop()


def mail_to(url: str, secret: str) -> tuple[Channel, Built]:
    channel = Channel("ops-mail", "smtp", url, secret, ("ops@gas.example",), "gasguard@gas.example")
    mail = Mail("gasguard@gas.example", ("ops@gas.example",), "[gasguard] leak", "M1 shut off")
    return channel, Built(mails=(mail,))


def test_a_mail_goes_over_starttls_with_a_login_and_a_wrong_one_fails_at_once(
    authority: Authority, tls_smtp: tuple[Mailbox, int]
) -> None:
    box, port = tls_smtp
    client_tls = ssl.create_default_context(cafile=str(authority.ca_cert))
    sender = Sender(5.0, client_tls)
    login = "alerts%40gas.example"
    outcome = sender.send(*mail_to(f"smtp://{login}@127.0.0.1:{port}?starttls=1", PASSWORD))
    assert outcome.ok, outcome.answer
    (mail,) = box.mails
    assert mail.rcpt_tos == ["ops@gas.example"] and b"M1 shut off" in mail.content
    wrong = sender.send(*mail_to(f"smtp://{login}@127.0.0.1:{port}?starttls=1", "guess"))
    assert not wrong.ok and not wrong.retry and "535" in wrong.answer
    plain = sender.send(*mail_to(f"smtp://{login}@127.0.0.1:{port}", PASSWORD))
    assert not plain.ok and not plain.retry  # the server wants STARTTLS first: 530
    untrusted = Sender(5.0).send(*mail_to(f"smtp://{login}@127.0.0.1:{port}?starttls=1", PASSWORD))
    assert not untrusted.ok and "certificate" in untrusted.answer.lower()
    sender.close()
    assert len(box.mails) == 1
