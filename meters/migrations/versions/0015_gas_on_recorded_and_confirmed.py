"""gas-on is recorded by the utility (验收通气) and confirmed by the commissioned meter's
first flow after commissioning: when the meter was commissioned, its first flow, the
recorded gas-on, and any flow the meter showed before it was commissioned (flagged)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = ("commissioned_ms", "first_flow_ms", "gas_on_recorded_ms", "flow_before_commission_ms")


def upgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        for name in COLUMNS:
            table.add_column(sa.Column(name, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connection_applications") as table:
        for name in reversed(COLUMNS):
            table.drop_column(name)
