"""容缺受理: when the last missing document was handed in (Lingbao's approval clock counts
from complete documents)

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        table.add_column(sa.Column("documents_complete_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        table.drop_column("documents_complete_ms")
