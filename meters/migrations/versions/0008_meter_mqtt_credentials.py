"""meters carry the generation of their MQTT credentials and when they were revoked

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mqtt_generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("mqtt_revoked_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_column("mqtt_revoked_ms")
        batch_op.drop_column("mqtt_generation")
