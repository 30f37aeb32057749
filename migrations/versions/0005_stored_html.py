"""Texts rendered once, when they are written: dataset descriptions, report summaries and recommendations
keep their sanitised HTML beside their markdown, as messages already did. Every stored HTML is rendered
again here with the linear renderer (comrak, then nh3: `feedback.markdown`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 05:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (table, markdown column, HTML column)
TEXTS = [
    ("message", "body", "body_html"),
    ("dataset", "description", "description_html"),
    ("report", "summary", "summary_html"),
    ("recommendation", "text", "text_html"),
]
NEW_COLUMNS = TEXTS[1:]


def _render_all(connection) -> None:
    from feedback.markdown import render_markdown  # the renderer of this version

    for table_name, source, target in TEXTS:
        table = sa.table(
            table_name, sa.column("id", sa.Integer), sa.column(source, sa.Text), sa.column(target, sa.Text)
        )
        update = sa.update(table).where(table.c.id == sa.bindparam("key")).values({target: sa.bindparam("html")})
        last = 0
        while True:
            rows = connection.execute(
                sa.select(table.c.id, table.c[source]).where(table.c.id > last).order_by(table.c.id).limit(2000)
            ).all()
            if not rows:
                break
            connection.execute(update, [{"key": key, "html": str(render_markdown(text))} for key, text in rows])
            last = rows[-1][0]


def upgrade():
    for table_name, _, target in NEW_COLUMNS:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(sa.Column(target, sa.Text(), nullable=True))
    _render_all(op.get_bind())
    for table_name, _, target in NEW_COLUMNS:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(target, existing_type=sa.Text(), nullable=False)


def downgrade():
    for table_name, _, target in reversed(NEW_COLUMNS):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column(target)
