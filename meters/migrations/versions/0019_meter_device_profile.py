"""Each meter's device profile (what it speaks and how it is reached, devices.profiles);
meters from before speak gasguard's JSON

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.add_column(
            sa.Column(
                "device_profile", sa.String(32), nullable=False, server_default="gasguard-json"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.drop_column("device_profile")
