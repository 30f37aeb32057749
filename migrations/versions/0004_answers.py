"""What counts as an answer: each message's purpose (an answer, a request for details, a transfer note, an
extension motive…), when the owning service received each thread and when it answered it. The figures of
existing threads are recomputed from their messages and their event log (`feedback.threads.answers`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 05:10:00

"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import feedback.database

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PURPOSES = "'reply', 'answer', 'details_request', 'transfer_note', 'extension_motive', 'internal_note'"

message = sa.table(
    "message",
    sa.column("id", sa.Integer),
    sa.column("thread_id", sa.Integer),
    sa.column("author_id", sa.Integer),
    sa.column("as_organisation_id", sa.Integer),
    sa.column("internal", sa.Boolean),
    sa.column("purpose", sa.String),
    sa.column("created_at", feedback.database.UTCDateTime()),
)
event = sa.table(
    "thread_event",
    sa.column("thread_id", sa.Integer),
    sa.column("actor_id", sa.Integer),
    sa.column("type", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("created_at", feedback.database.UTCDateTime()),
)
thread = sa.table(
    "thread",
    sa.column("id", sa.Integer),
    sa.column("created_at", feedback.database.UTCDateTime()),
    sa.column("received_at", feedback.database.UTCDateTime()),
    sa.column("first_response_at", feedback.database.UTCDateTime()),
    sa.column("answered_at", feedback.database.UTCDateTime()),
)


def _purposes(connection) -> None:
    """A message written for the service was its answer unless its operation made it something else: the
    word of a transfer, the motive of an extension, or the question of a request for details, recorded at
    the same instant by the same person."""
    connection.execute(sa.update(message).where(message.c.internal.is_(True)).values(purpose="internal_note"))
    connection.execute(
        sa.update(message)
        .where(message.c.internal.is_(False), message.c.as_organisation_id.is_(None))
        .values(purpose="reply")
    )
    words = {}
    for type_, thread_id, actor_id, at, payload in connection.execute(
        sa.select(event.c.type, event.c.thread_id, event.c.actor_id, event.c.created_at, event.c.payload).where(
            event.c.type.in_(("transferred", "deadline_extended", "status_changed"))
        )
    ):
        if type_ == "transferred":
            words[(thread_id, actor_id, at)] = "transfer_note"
        elif type_ == "deadline_extended":
            words[(thread_id, actor_id, at)] = "extension_motive"
        elif (payload or {}).get("status") == "needs_info":
            words.setdefault((thread_id, actor_id, at), "details_request")
    by_purpose = defaultdict(list)
    for message_id, thread_id, author_id, at in connection.execute(
        sa.select(message.c.id, message.c.thread_id, message.c.author_id, message.c.created_at).where(
            message.c.internal.is_(False), message.c.as_organisation_id.is_not(None)
        )
    ):
        by_purpose[words.get((thread_id, author_id, at), "answer")].append(message_id)
    for purpose, ids in by_purpose.items():
        for start in range(0, len(ids), 5000):
            connection.execute(
                sa.update(message).where(message.c.id.in_(ids[start : start + 5000])).values(purpose=purpose)
            )


def _figures(connection) -> None:
    from feedback.threads import answers  # the one definition, for the threads as they stand

    connection.execute(sa.update(thread).values(received_at=thread.c.created_at))
    session = Session(bind=connection)
    computed = answers.recompute(session)
    rows = [
        {"key": thread_id, "received": f.received_at, "first": f.first_response_at, "answered": f.answered_at}
        for thread_id, f in computed.items()
    ]
    statement = (
        sa.update(thread)
        .where(thread.c.id == sa.bindparam("key"))
        .values(
            received_at=sa.bindparam("received"),
            first_response_at=sa.bindparam("first"),
            answered_at=sa.bindparam("answered"),
        )
    )
    for start in range(0, len(rows), 5000):
        connection.execute(statement, rows[start : start + 5000])


def upgrade():
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=20), nullable=True))
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", feedback.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answered_at", feedback.database.UTCDateTime(timezone=True), nullable=True))

    connection = op.get_bind()
    _purposes(connection)
    _figures(connection)

    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.alter_column("purpose", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_check_constraint(op.f("ck_message_purpose_allowed"), f"purpose IN ({PURPOSES})")
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.alter_column("received_at", existing_type=feedback.database.UTCDateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
        batch_op.drop_column("received_at")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_message_purpose_allowed"), type_="check")
        batch_op.drop_column("purpose")
