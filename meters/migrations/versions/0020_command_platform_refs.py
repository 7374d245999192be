"""The operator platform's own id for each time a command was handed to it (OneNET's
cached-command uuid, CTWing's commandId): the platform's result names the command by it

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("commands") as table:
        table.add_column(sa.Column("platform_refs", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("commands") as table:
        table.drop_column("platform_refs")
