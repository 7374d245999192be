"""dead letters carry a reason code

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("code", sa.String(length=32), server_default="invalid", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_dead_letters_code"), ["code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_code"))
        batch_op.drop_column("code")
