"""the safety guarantees (issue 17): a meter's closure is the set of reasons of every close
confirmed since its last confirmed open (``meters.closures``, and ``commands.closures`` for
the reasons of everyone a close joined); when the meter was last armed; the time of the
stored valve state, so that an older fact never replaces a newer one; the meter's batch
sequence numbers (last seen, batches missing); one command counter
per (meter, counter); a worker's critical fault and its warning (a broker that limits it)
in its health row; connection time-limit warnings remembered in the registry

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FINAL = ("succeeded", "failed", "expired", "timed_out")


def upgrade() -> None:
    op.add_column(
        "meters", sa.Column("closures", sa.String(length=64), nullable=False, server_default="")
    )
    op.add_column("meters", sa.Column("armed_ms", sa.BigInteger(), nullable=True))
    op.add_column("meters", sa.Column("valve_ms", sa.BigInteger(), nullable=True))
    op.add_column("meters", sa.Column("last_seq", sa.BigInteger(), nullable=True))
    op.add_column(
        "meters",
        sa.Column("missing_batches", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute("UPDATE meters SET closures = closure WHERE closure IS NOT NULL")
    op.execute("UPDATE meters SET valve_ms = last_reading_ms WHERE valve IS NOT NULL")
    op.drop_column("meters", "closure")
    op.add_column(
        "commands", sa.Column("closures", sa.String(length=64), nullable=False, server_default="")
    )
    op.execute("UPDATE commands SET closures = kind WHERE action = 'close'")
    _renumber_duplicate_counters()
    op.create_index(
        "uq_commands_meter_counter", "commands", ["meter_id", "counter"], unique=True
    )
    op.add_column(
        "ingest_workers", sa.Column("fault", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "ingest_workers", sa.Column("warning", sa.Text(), nullable=False, server_default="")
    )
    op.create_table(
        "connection_warnings",
        sa.Column("application", sa.String(length=32), primary_key=True),
        sa.Column("state", sa.String(length=16), primary_key=True),
        sa.Column("raised_ms", sa.BigInteger(), nullable=False),
    )


def _renumber_duplicate_counters() -> None:
    """Counters given twice before counters were allocated atomically: the first command
    (by creation) keeps its counter; a finished duplicate gets a negative one (it is never
    sent again), one still in flight the meter's next counter (it is re-signed with it)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, meter_id, counter, state FROM commands ORDER BY meter_id, counter, "
            "created_ms, id"
        )
    ).all()
    seen: set[tuple[str, int]] = set()
    retired = 0
    for command_id, meter_id, counter, state in rows:
        if (meter_id, counter) not in seen:
            seen.add((meter_id, counter))
            continue
        if state in FINAL:
            retired += 1
            new_counter = -retired
        else:
            new_counter = connection.execute(
                sa.text(
                    "UPDATE meters SET command_counter = command_counter + 1 WHERE id = :m "
                    "RETURNING command_counter"
                ),
                {"m": meter_id},
            ).scalar_one()
        connection.execute(
            sa.text("UPDATE commands SET counter = :c WHERE id = :id"),
            {"c": new_counter, "id": command_id},
        )


def downgrade() -> None:
    op.drop_table("connection_warnings")
    op.drop_column("ingest_workers", "warning")
    op.drop_column("ingest_workers", "fault")
    op.drop_index("uq_commands_meter_counter", table_name="commands")
    op.drop_column("commands", "closures")
    op.add_column("meters", sa.Column("closure", sa.String(length=16), nullable=True))
    op.execute("UPDATE meters SET closure = 'safety' WHERE closures LIKE '%safety%'")
    op.execute(
        "UPDATE meters SET closure = closures WHERE closures <> '' AND closure IS NULL "
        "AND closures NOT LIKE '%,%'"
    )
    op.drop_column("meters", "missing_batches")
    op.drop_column("meters", "last_seq")
    op.drop_column("meters", "valve_ms")
    op.drop_column("meters", "armed_ms")
    op.drop_column("meters", "closures")
