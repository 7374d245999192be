"""an index for the dashboard's order of meters (closed valves first), so that a page of
a city's meters in that order is read from the index, not sorted from the whole table

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

VALVE_RANK = "(CASE valve WHEN 'closed' THEN 0 WHEN 'fault' THEN 1 WHEN 'open' THEN 2 ELSE 3 END)"


def upgrade() -> None:
    op.create_index("ix_meters_valve_rank", "meters", [sa.text(VALVE_RANK), "id"])


def downgrade() -> None:
    op.drop_index("ix_meters_valve_rank", table_name="meters")
