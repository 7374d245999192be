"""Sending what notify.channels built: HTTP requests with httpx, mail over SMTP (STARTTLS
when the channel asks for it). A network failure is an outcome worth retrying, never an
exception out of here."""

from __future__ import annotations

import logging
import smtplib
import ssl
import urllib.parse
from email.message import EmailMessage

import httpx

from notify.channels import Built, Channel, Mail, Outcome, judge

log = logging.getLogger(__name__)


class Sender:
    def __init__(self, timeout_s: float = 10.0, tls: ssl.SSLContext | None = None) -> None:
        self._http = httpx.Client(timeout=timeout_s)
        self._timeout_s = timeout_s
        self._tls = tls or ssl.create_default_context()

    def close(self) -> None:
        self._http.close()

    def send(self, channel: Channel, built: Built) -> Outcome:
        """Every request and mail of one notification; the first failure is its outcome."""
        answers = []
        for request in built.requests:
            try:
                response = self._http.request(
                    request.method, request.url, headers=dict(request.headers), content=request.body
                )
            except httpx.HTTPError as exc:
                return Outcome(False, f"{type(exc).__name__}: {exc}")
            outcome = judge(channel, response.status_code, response.content)
            if not outcome.ok:
                return outcome
            answers.append(outcome.answer)
        for mail in built.mails:
            outcome = self._mail(channel, mail)
            if not outcome.ok:
                return outcome
            answers.append(outcome.answer)
        return Outcome(True, "; ".join(answers))

    def _mail(self, channel: Channel, mail: Mail) -> Outcome:
        """``channel.url``: ``smtp://host:port`` (``?starttls=1`` to upgrade);
        ``channel.secret``: the password of ``user@`` in the URL, when it has one."""
        where = urllib.parse.urlsplit(channel.url)
        message = EmailMessage()
        message["From"], message["To"] = mail.sender, ", ".join(mail.to)
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        try:
            with smtplib.SMTP(
                where.hostname or "localhost", where.port or 25, timeout=self._timeout_s
            ) as smtp:
                if "starttls=1" in where.query:
                    smtp.starttls(context=self._tls)
                if where.username:
                    _log_in(smtp, urllib.parse.unquote(where.username), channel.secret)
                refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # the server refuses what the channel asks (no AUTH without STARTTLS, a 5xx):
            # trying again does not mend it
            permanent = isinstance(exc, smtplib.SMTPNotSupportedError) or (
                isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600
            )
            return Outcome(False, f"SMTP {type(exc).__name__}: {exc}", retry=not permanent)
        if refused:
            return Outcome(False, f"SMTP refused {sorted(refused)}", retry=False)
        return Outcome(True, f"SMTP accepted for {len(mail.to)}")


def _log_in(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN where the server offers it (one attempt, its answer final), else
    smtplib's own choice among the mechanisms the server offers."""
    smtp.ehlo_or_helo_if_needed()
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    if "PLAIN" not in offered:
        smtp.login(user, password)
        return
    smtp.user, smtp.password = user, password
    smtp.auth("PLAIN", smtp.auth_plain)
