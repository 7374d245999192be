"""A command for a meter that sleeps waits for it: when the meter is next expected to wake
(its last uplink plus its profile's wake-up interval); cleared once the meter took it

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commands") as table:
        table.add_column(sa.Column("wake_expected_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("commands") as table:
        table.drop_column("wake_expected_ms")
