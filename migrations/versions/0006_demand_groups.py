"""The indicators read what is kept, not what is recomputed: each thread keeps its delays to the first
response in working and calendar days (`feedback.threads.answers.response_delays`), two indexes hold every
column the indicators read (`ix_thread_figures` by period, `ix_thread_producer_figures` by producer), and the groups of similar requests are kept as the threads
change (`feedback.capitalisation.demand`): one row per request and theme, with its normalised title and the
first thread of its group. All are filled here from the threads as they stand.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


FIGURE_COLUMNS = (
    "visibility", "created_at", "kind", "status", "organisation_id", "use_case", "quality_category", "dataset_id",
    "territory_code", "is_open", "due_at", "answered_at", "response_working_days", "response_days",
    "decline_reason", "votes_count", "public_messages_count", "id",
)  # fmt: skip


def _delays(connection) -> None:
    from feedback.database import UTCDateTime
    from feedback.threads.answers import response_delays  # the one definition

    thread = sa.table(
        "thread",
        sa.column("id", sa.Integer),
        sa.column("received_at", UTCDateTime()),
        sa.column("first_response_at", UTCDateTime()),
        sa.column("response_working_days", sa.Integer),
        sa.column("response_days", sa.Float),
    )
    rows = [
        dict(zip(("key", "working", "days"), (thread_id, *response_delays(received, first)), strict=True))
        for thread_id, received, first in connection.execute(
            sa.select(thread.c.id, thread.c.received_at, thread.c.first_response_at).where(
                thread.c.first_response_at.is_not(None)
            )
        )
    ]
    statement = (
        sa.update(thread)
        .where(thread.c.id == sa.bindparam("key"))
        .values(response_working_days=sa.bindparam("working"), response_days=sa.bindparam("days"))
    )
    for start in range(0, len(rows), 5000):
        connection.execute(statement, rows[start : start + 5000])


def upgrade():
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_working_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response_days", sa.Float(), nullable=True))
    _delays(op.get_bind())
    op.create_index("ix_thread_figures", "thread", list(FIGURE_COLUMNS), unique=False)
    producer_first = ["organisation_id", *(column for column in FIGURE_COLUMNS if column != "organisation_id")]
    op.create_index("ix_thread_producer_figures", "thread", producer_first, unique=False)

    op.create_table(
        "demand_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["theme.id"], name=op.f("fk_demand_entry_theme_id_theme"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["thread.id"], name=op.f("fk_demand_entry_thread_id_thread"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_entry")),
    )
    op.create_index("ix_demand_entry_thread", "demand_entry", ["thread_id", "theme_id", "leader_id"], unique=False)
    op.create_index("ix_demand_entry_theme_leader", "demand_entry", ["theme_id", "leader_id"], unique=False)

    from feedback.capitalisation import demand  # the one grouping, for the threads as they stand

    connection = op.get_bind()
    session = Session(bind=connection)
    found = demand.compute(demand.memberships(sa.true(), session), demand.place_pattern(session))
    rows = demand.entry_rows(found.items())
    table = sa.table(
        "demand_entry",
        sa.column("thread_id", sa.Integer),
        sa.column("theme_id", sa.Integer),
        sa.column("leader_id", sa.Integer),
        sa.column("title", sa.String),
    )
    for start in range(0, len(rows), 5000):
        connection.execute(sa.insert(table), rows[start : start + 5000])


def downgrade():
    op.drop_index("ix_thread_producer_figures", table_name="thread")
    op.drop_index("ix_thread_figures", table_name="thread")
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.drop_column("response_days")
        batch_op.drop_column("response_working_days")
    op.drop_index("ix_demand_entry_theme_leader", table_name="demand_entry")
    op.drop_index("ix_demand_entry_thread", table_name="demand_entry")
    op.drop_table("demand_entry")
