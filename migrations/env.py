"""Alembic environment, run through Flask-Migrate (`flask --app wsgi db …`)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from feedback.models import db, is_managed_outside_models

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")


def include_name(name, type_, parent_names):
    # Full-text search tables, triggers and indexes are created by hand in the migrations.
    return not is_managed_outside_models(name)


def run_migrations_offline():
    context.configure(
        url=str(db.engine.url),
        target_metadata=db.metadata,
        literal_binds=True,
        include_name=include_name,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("compare_type", True)
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it into a new one and dropping the old: with foreign keys on,
            # that drop would delete every row that refers to it (ON DELETE CASCADE) — a thread's messages
            # and events when a column of `thread` changes. Off for the migration (a PRAGMA that only takes
            # effect outside a transaction: this is the connection's first statement), checked after it.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # the PRAGMA's own (empty) transaction: the migration then runs in its own
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            include_name=include_name,
            **{"render_as_batch": sqlite, **conf_args},
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"the migration left rows whose foreign key points nowhere: {broken[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
