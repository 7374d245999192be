"""Acknowledgement links: signed, short-lived, refused when altered. Pure."""

from __future__ import annotations

import pytest

from notify.links import AckClaim, LinkRefused, read_link, sign_link

NOW = 1_790_000_000_000
CLAIM = AckClaim(12, "li", NOW + 3_600_000, "0123456789abcdef0123456789abcdef")


def test_a_link_reads_back_its_claim_until_it_expires() -> None:
    token = sign_link("link-secret", CLAIM)
    assert read_link("link-secret", token, NOW) == CLAIM
    with pytest.raises(LinkRefused, match="expired"):
        read_link("link-secret", token, NOW + 3_600_001)


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature
        lambda t: (
            sign_link("link-secret", AckClaim(13, "li", CLAIM.expires_ms, CLAIM.nonce)).split(".")[
                0
            ]
            + "."
            + t.split(".")[1]
        ),  # another alarm, this signature
        lambda t: t.split(".")[0],  # no signature
        lambda t: "not base64!." + t.split(".")[1],
    ],
)
def test_an_altered_or_foreign_link_is_refused(alter: object) -> None:
    token = sign_link("link-secret", CLAIM)
    with pytest.raises(LinkRefused):
        read_link("link-secret", alter(token), NOW)  # type: ignore[operator]
    with pytest.raises(LinkRefused):
        read_link("another-secret", token, NOW)
    with pytest.raises(LinkRefused):
        read_link("", token, NOW)  # no secret set: no link is good
