"""容缺受理: an application accepted with documents missing keeps the missing list and the
date they are due

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        table.add_column(sa.Column("missing_documents", sa.JSON(), nullable=True))
        table.add_column(sa.Column("documents_due_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        table.drop_column("documents_due_ms")
        table.drop_column("missing_documents")
