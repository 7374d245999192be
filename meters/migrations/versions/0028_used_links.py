"""Acknowledgement links' spent nonces (issue 23: a link in a notification acknowledges
once and only once)

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "used_links",
        sa.Column("nonce", sa.String(32), primary_key=True),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("used_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("used_links")
