"""signed valve commands: per-meter keys and counters, the closure kind, and the full
command lifecycle (attempts, expiry, delivery, confirmation)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def command_columns() -> list[sa.Column]:
    return [
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="safety"),
        sa.Column("source", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("counter", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("delivered_ms", sa.BigInteger(), nullable=True),
        sa.Column("finished_ms", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("command_counter", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("closure", sa.String(length=16), nullable=True))
    with op.batch_alter_table("commands", schema=None) as batch_op:
        for column in command_columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("commands", schema=None) as batch_op:
        for column in reversed(command_columns()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_column("closure")
        batch_op.drop_column("command_counter")
        batch_op.drop_column("secret_key")
