"""customers, addresses, connection applications (报装) and their pauses

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "connection_applications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(length=32), nullable=False, unique=True),
        sa.Column("policy", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("address_id", sa.Integer(), sa.ForeignKey("addresses.id"), nullable=False),
        sa.Column("submitted_ms", sa.BigInteger(), nullable=False),
        sa.Column("surveyed_ms", sa.BigInteger(), nullable=True),
        sa.Column("gas_on_ms", sa.BigInteger(), nullable=True),
        sa.Column("meter_id", sa.String(length=32), nullable=True, index=True),
        sa.Column("fee_application", sa.Float(), nullable=False, server_default="0"),
        sa.Column("fee_gas_on", sa.Float(), nullable=False, server_default="0"),
        sa.Column("state", sa.String(length=16), nullable=False, index=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "connection_pauses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "application_id",
            sa.Integer(),
            sa.ForeignKey("connection_applications.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("connection_pauses")
    op.drop_table("connection_applications")
    op.drop_table("addresses")
    op.drop_table("customers")
