"""operators and roles; alarm acknowledgement and clearing; audit source and reason;
change times for the live feed

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=64), primary_key=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False, server_default=""),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("cleared_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cleared_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("updated_ms", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_alarms_updated_ms"), ["updated_ms"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarms_cleared_ms"), ["cleared_ms"], unique=False)
    op.execute("UPDATE alarms SET updated_ms = created_ms")
    with op.batch_alter_table("commands", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_ms", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_commands_updated_ms"), ["updated_ms"], unique=False)
    op.execute(
        "UPDATE commands SET updated_ms = COALESCE(replied_ms, sent_ms, created_ms)"
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("source")
    with op.batch_alter_table("commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commands_updated_ms"))
        batch_op.drop_column("updated_ms")
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarms_cleared_ms"))
        batch_op.drop_index(batch_op.f("ix_alarms_updated_ms"))
        for column in (
            "updated_ms",
            "note",
            "cleared_ms",
            "cleared_by",
            "acknowledged_ms",
            "acknowledged_by",
        ):
            batch_op.drop_column(column)
    op.drop_table("users")
