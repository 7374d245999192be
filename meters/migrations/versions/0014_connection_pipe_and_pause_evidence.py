"""connection applications record their external works (the pipe length and whether other
users are affected: class A is at most 200 m and affects no one); a pause records its
evidence (a note or a document reference)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        table.add_column(sa.Column("pipe_length_m", sa.Float(), nullable=True))
        table.add_column(sa.Column("affects_others", sa.Boolean(), nullable=True))
    with op.batch_alter_table("connection_pauses") as table:
        table.add_column(sa.Column("evidence", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("connection_pauses") as table:
        table.drop_column("evidence")
    with op.batch_alter_table("connection_applications") as table:
        table.drop_column("affects_others")
        table.drop_column("pipe_length_m")
