"""A DTU's TCP link: registration, framing across reads, garbage, the identity check.
Pure: no fixtures."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from devices import cjt188
from devices.dtu import DtuAccount, DtuLink, Foreign, Garbage, MeterFrame, Refused, Registered

MINE, THEIRS = "20260000000001", "20260000000002"
ACCOUNTS = {"dtu-7": DtuAccount("dtu-7", "s3cret-token-7", frozenset({MINE}))}


def answer(address: str) -> bytes:
    data = cjt188.MeterData(address, 0, 1.25, 1.0, 1_790_000_000_000, "open", False, 0)
    return cjt188.encode_frame(cjt188.meter_data_frame(data, "2004"))


def test_a_registered_dtus_frames_come_through_split_anyhow() -> None:
    link = DtuLink(ACCOUNTS)
    assert link.receive(b"dtu-7:s3cret") == []  # the packet is not complete yet
    events = link.receive(b"-token-7\n" + b"HEARTBEAT" + answer(MINE)[:7])
    assert events == [Registered("dtu-7"), Garbage(len(b"HEARTBEAT") + 2)]  # and FE FE
    events = link.receive(answer(MINE)[7:] + answer(THEIRS))
    frame = cjt188.encode_frame(cjt188.decode_frame(answer(MINE)), wake_up=0)
    assert events == [Garbage(2), MeterFrame(MINE, frame), Foreign(THEIRS)]
    assert link.serves(MINE) and not link.serves(THEIRS)


def test_a_wrong_token_or_an_unknown_dtu_or_no_registration_is_refused() -> None:
    for opening, why in (
        (b"dtu-7:guess\n", "DTU dtu-7: wrong token"),
        (b"dtu-9:s3cret-token-7\n", "unknown DTU 'dtu-9'"),
        (answer(MINE) * 4, "no registration packet"),
    ):
        link = DtuLink(ACCOUNTS)
        (refused,) = link.receive(opening)
        assert isinstance(refused, Refused) and refused.reason.startswith(why)
        assert link.refused and link.receive(answer(MINE)) == []  # nothing after it


@given(st.lists(st.binary(max_size=60), max_size=12))
def test_any_bytes_after_registration_yield_only_frames_of_its_meters_or_garbage(
    chunks: list[bytes],
) -> None:
    link = DtuLink(ACCOUNTS)
    link.receive(b"dtu-7:s3cret-token-7\n")
    for chunk in chunks:
        for event in link.receive(chunk + answer(MINE)):
            assert isinstance(event, MeterFrame | Foreign | Garbage)
            if isinstance(event, MeterFrame):
                assert cjt188.decode_frame(event.raw).address == MINE
