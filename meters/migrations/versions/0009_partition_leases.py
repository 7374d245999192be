"""partition leases (a surviving ingest worker takes over a dead one's partition), and
the partitions a worker runs in its health row

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partition_leases",
        sa.Column("partition", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("wanted_by", sa.String(length=128), nullable=True),
        sa.Column("wanted_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("partition"),
    )
    with op.batch_alter_table("ingest_workers", schema=None) as batch_op:
        batch_op.alter_column(
            "partition", existing_type=sa.String(length=16), type_=sa.String(length=128)
        )


def downgrade() -> None:
    with op.batch_alter_table("ingest_workers", schema=None) as batch_op:
        batch_op.alter_column(
            "partition", existing_type=sa.String(length=128), type_=sa.String(length=16)
        )
    op.drop_table("partition_leases")
