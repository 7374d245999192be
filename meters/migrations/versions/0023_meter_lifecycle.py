"""A meter's life (meters.lifecycle): in stock, installed (by whom, where), commissioned by
its first verified uplink, active, suspended, removed or replaced, with the register at
removal and at the replacing meter's start; meters from before are active

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.add_column(
            sa.Column("lifecycle", sa.String(16), nullable=False, server_default="active")
        )
        table.add_column(sa.Column("lifecycle_ms", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("installer", sa.String(64), nullable=True))
        table.add_column(sa.Column("replaces", sa.String(32), nullable=True))
        table.add_column(sa.Column("replaced_by", sa.String(32), nullable=True))
        table.add_column(sa.Column("register_start_m3", sa.Float(), nullable=True))
        table.add_column(sa.Column("register_end_m3", sa.Float(), nullable=True))
        table.create_index("ix_meters_lifecycle", ["lifecycle"])


def downgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.drop_index("ix_meters_lifecycle")
        for column in (
            "register_end_m3",
            "register_start_m3",
            "replaced_by",
            "replaces",
            "installer",
            "lifecycle_ms",
            "lifecycle",
        ):
            table.drop_column(column)
