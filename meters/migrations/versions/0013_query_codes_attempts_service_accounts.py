"""public lookup by a non-guessable query code (hashed); failed attempts of every kind
(sign-in, public lookup) in one table, with expiry by their last attempt; generations of
the server processes' MQTT passwords, rotated on their own

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "connection_applications",
        sa.Column("query_code_hash", sa.String(length=64), nullable=True),
    )
    op.rename_table("sign_in_failures", "attempt_failures")
    op.create_index("ix_attempt_failures_last_ms", "attempt_failures", ["last_ms"])
    op.create_table(
        "mqtt_service_accounts",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mqtt_service_accounts")
    op.drop_index("ix_attempt_failures_last_ms", table_name="attempt_failures")
    op.rename_table("attempt_failures", "sign_in_failures")
    op.drop_column("connection_applications", "query_code_hash")
