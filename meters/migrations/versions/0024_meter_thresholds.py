"""Parameter download (contract.thresholds): a meter's own configured thresholds (over its
device profile's), the thresholds it confirmed it holds and when, and a parameter
download's thresholds on its command

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.add_column(sa.Column("thresholds", sa.JSON(), nullable=True))
        table.add_column(sa.Column("held_thresholds", sa.JSON(), nullable=True))
        table.add_column(sa.Column("thresholds_confirmed_ms", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("commands") as table:
        table.add_column(sa.Column("params", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("commands") as table:
        table.drop_column("params")
    with op.batch_alter_table("meters") as table:
        for column in ("thresholds_confirmed_ms", "held_thresholds", "thresholds"):
            table.drop_column(column)
