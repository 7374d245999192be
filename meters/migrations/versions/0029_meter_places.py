"""Where each meter is (meters.places, issue 23): district, street, building, coordinates
and the pressure zone that feeds it; indexed by district and zone for the area view and
the correlation of incidents

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

TEXT = {"district": 64, "street": 128, "building": 64, "pressure_zone": 64}


def upgrade() -> None:
    with op.batch_alter_table("meters") as table:
        for name, length in TEXT.items():
            table.add_column(sa.Column(name, sa.String(length), nullable=True))
        table.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        table.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        table.create_index("ix_meters_district", ["district"])
        table.create_index("ix_meters_pressure_zone", ["pressure_zone"])


def downgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.drop_index("ix_meters_pressure_zone")
        table.drop_index("ix_meters_district")
        for name in ("longitude", "latitude", *TEXT):
            table.drop_column(name)
