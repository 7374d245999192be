"""The notify package's exceptions."""

from __future__ import annotations


class NotifyError(Exception):
    """Base of the errors the notify package raises."""


class ChannelError(NotifyError):
    """A channel's settings cannot make a request (a template without its placeholder)."""
