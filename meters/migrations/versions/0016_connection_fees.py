"""the fees charged on a connection application besides the application and gas-on fees,
checked against the city's published list

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        table.add_column(sa.Column("fees", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        table.drop_column("fees")
