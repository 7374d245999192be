"""alarms can be assigned to an operator; ingest workers report their health

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("assigned_ms", sa.BigInteger(), nullable=True))
    op.create_table(
        "ingest_workers",
        sa.Column("worker", sa.String(length=128), primary_key=True),
        sa.Column("partition", sa.String(length=16), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("readings", sa.BigInteger(), nullable=False),
        sa.Column("dead_letters", sa.BigInteger(), nullable=False),
        sa.Column("spool_records", sa.BigInteger(), nullable=False),
        sa.Column("spool_bytes", sa.BigInteger(), nullable=False),
        sa.Column("messages_per_s", sa.Float(), nullable=False),
        sa.Column("readings_per_s", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingest_workers")
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_column("assigned_ms")
        batch_op.drop_column("assigned_to")
