"""When a meter's profile for the rules (model, category, report interval, device profile)
or its life last changed, so a running ingester applies the change to its engine (a
meter imported, installed, replaced or removed while it runs); meters from before: 0

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.add_column(
            sa.Column("profile_ms", sa.BigInteger(), nullable=False, server_default="0")
        )
        table.create_index("ix_meters_profile_ms", ["profile_ms"])


def downgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.drop_index("ix_meters_profile_ms")
        table.drop_column("profile_ms")
