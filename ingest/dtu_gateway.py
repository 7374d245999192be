"""The DTU gateway: CJ/T 188 DTUs and concentrators that dial in over TCP (docs/protocols.md).

One asyncio server; each connection is a ``devices.dtu.DtuLink`` (registration, framing
with resynchronisation, the identity check). A meter's frame is published, as it came, on
its ``cjt188-up`` topic (QoS 1), where the ingester stores it like any other; a request
for a meter (``cjt188-down``) is written to the connection of the DTU that serves it. The
gateway is an edge adapter: everything behind the broker sees the same topics as for a
DTU that speaks MQTT itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping

from contract.errors import ProtocolError
from contract.protocol import parse_topic, subscription, topic
from devices.dtu import DtuAccount, DtuLink, Foreign, Garbage, MeterFrame, Refused, Registered
from transport.errors import PublishRefused
from transport.mqtt import Incoming, MqttSession

log = logging.getLogger(__name__)
READ_BYTES = 4096
GATEWAY_SUBSCRIPTIONS = [(subscription("cjt188-down"), 1)]


class DtuGateway:
    def __init__(
        self,
        session: MqttSession,
        accounts: Mapping[str, DtuAccount],
        idle_timeout_s: float,
    ) -> None:
        self.session = session
        self._accounts = accounts
        self._idle_timeout_s = idle_timeout_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._by_dtu: dict[str, asyncio.StreamWriter] = {}
        self._by_meter: dict[str, str] = {}  # address -> dtu id, of the connected DTUs
        self.frames_published = 0
        self.garbage_bytes = 0
        self.port = 0
        self._stop: asyncio.Event | None = None
        session.on_message(self._on_request)

    async def serve(self, host: str, port: int, started: threading.Event | None = None) -> None:
        """Listen until ``stop``; ``started`` is set once the port is open (``self.port``)."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._connection, host, port)
        self.port = server.sockets[0].getsockname()[1]
        log.info("DTU gateway listening on %s:%d", host, self.port)
        if started is not None:
            started.set()
        async with server:
            await self._stop.wait()
            for writer in list(self._by_dtu.values()):
                writer.close()

    def stop(self) -> None:
        """From any thread: stop listening and close the DTUs' connections."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    # -- DTU connections ------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        link = DtuLink(self._accounts)
        try:
            while not link.refused:
                try:
                    data = await asyncio.wait_for(reader.read(READ_BYTES), self._idle_timeout_s)
                except TimeoutError:
                    log.warning("DTU %s at %s silent: connection closed", _name(link), peer)
                    break
                if not data:
                    break
                for event in link.receive(data):
                    self._act(event, link, writer, peer)
        finally:
            self._forget(link, writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _act(
        self, event: object, link: DtuLink, writer: asyncio.StreamWriter, peer: object
    ) -> None:
        if isinstance(event, Registered):
            old = self._by_dtu.get(event.dtu_id)
            if old is not None and old is not writer:  # the DTU dialled in again
                old.close()
            self._by_dtu[event.dtu_id] = writer
            assert link.account is not None
            for address in link.account.meters:
                self._by_meter[address] = event.dtu_id
            log.info("DTU %s registered from %s", event.dtu_id, peer)
        elif isinstance(event, Refused):
            log.error("DTU connection from %s refused: %s", peer, event.reason)
        elif isinstance(event, MeterFrame):
            try:
                self.session.publish(topic(event.address, "cjt188-up"), event.raw, qos=1)
                self.frames_published += 1
            except (PublishRefused, ProtocolError) as exc:
                log.error(
                    "DTU %s: frame of meter %s not published: %s", _name(link), event.address, exc
                )
        elif isinstance(event, Foreign):
            log.error(
                "DTU %s sent a frame of meter %s, which it does not serve: dropped",
                _name(link),
                event.address,
            )
        elif isinstance(event, Garbage):
            self.garbage_bytes += event.skipped

    def _forget(self, link: DtuLink, writer: asyncio.StreamWriter) -> None:
        if link.account is None or self._by_dtu.get(link.account.dtu_id) is not writer:
            return
        del self._by_dtu[link.account.dtu_id]
        for address in link.account.meters:
            self._by_meter.pop(address, None)
        log.info("DTU %s disconnected", link.account.dtu_id)

    # -- requests for the meters ------------------------------------------------------------

    def _on_request(self, message: Incoming) -> None:
        """On the MQTT thread: hand the frame to the event loop, to the meter's DTU."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._forward, message.topic, message.payload)

    def _forward(self, name: str, payload: bytes) -> None:
        try:
            address = parse_topic(name).meter_id
        except ProtocolError as exc:
            log.error("request on %s: %s", name, exc)
            return
        dtu_id = self._by_meter.get(address)
        writer = self._by_dtu.get(dtu_id) if dtu_id is not None else None
        if writer is None:  # the command is resent by the dispatcher while it lives
            log.warning("request for meter %s: its DTU is not connected", address)
            return
        writer.write(payload)

    def connected(self) -> list[str]:
        return sorted(self._by_dtu)


def _name(link: DtuLink) -> str:
    return link.account.dtu_id if link.account is not None else "(unregistered)"
