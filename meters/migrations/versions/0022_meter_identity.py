"""What identifies a meter beside its id, from the factory's delivery file (gasguard meters
import): its NB-IoT module's IMEI and SIM's ICCID, its own bus or radio address (CJ/T 188,
wM-Bus), and where it is; an IMEI or an address belongs to one meter only

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.add_column(sa.Column("imei", sa.String(15), nullable=True))
        table.add_column(sa.Column("iccid", sa.String(20), nullable=True))
        table.add_column(sa.Column("network_address", sa.String(32), nullable=True))
        table.add_column(sa.Column("location", sa.String(200), nullable=True))
        table.create_index("uq_meters_imei", ["imei"], unique=True)
        table.create_index("uq_meters_network_address", ["network_address"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("meters") as table:
        table.drop_index("uq_meters_network_address")
        table.drop_index("uq_meters_imei")
        for column in ("location", "network_address", "iccid", "imei"):
            table.drop_column(column)
