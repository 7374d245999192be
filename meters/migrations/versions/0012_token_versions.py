"""revocable sessions: a per-account token version; a token issued under an older version
is refused at once (sign-out, password change, disable, an admin's sign-out everywhere);
failed sign-ins per account and per address, for rate limits and lockout

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(length=160), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column("locked_until_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    op.drop_column("users", "token_version")
