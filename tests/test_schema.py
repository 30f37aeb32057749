"""The migrations build exactly the schema the models describe, and can be undone and redone."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from feedback.catalogue.models import DATASET_SEARCH
from feedback.models import db as models_db
from feedback.models import is_managed_outside_models

from .conftest import make_app


def include_name(name, type_, parent_names):
    # The same filter as migrations/env.py: the full-text index is written by hand in the migrations.
    return not is_managed_outside_models(name)


def schema_differences(connection) -> list:
    context = MigrationContext.configure(
        connection,
        opts={"include_name": include_name, "compare_type": True, "target_metadata": models_db.metadata},
    )
    return compare_metadata(context, models_db.metadata)


def table_names(connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def test_migrations_and_models_agree(db):
    """The test database was built by the real migrations (see conftest): autogenerate finds nothing to do."""
    with db.engine.connect() as connection:
        differences = schema_differences(connection)

    assert differences == []


def test_every_model_table_exists_in_the_migrated_database(db):
    with db.engine.connect() as connection:
        present = table_names(connection)

    assert set(models_db.metadata.tables) <= present
    assert "alembic_version" in present


def test_search_index_made_by_the_migrations_is_there(db):
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            indexes = {index["name"] for index in sa.inspect(connection).get_indexes("dataset")}
            assert DATASET_SEARCH.pg_index in indexes
        else:
            assert DATASET_SEARCH.fts_table in table_names(connection)


def test_upgrade_downgrade_upgrade_on_a_fresh_database(tmp_path_factory, tmp_path):
    """On a SQLite file of its own, so that the shared test schema is left alone."""
    path = tmp_path / "fresh.sqlite3"
    fresh = make_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with fresh.app_context():
        try:
            upgrade()
            with models_db.engine.connect() as connection:
                assert set(models_db.metadata.tables) <= table_names(connection)
                assert DATASET_SEARCH.fts_table in table_names(connection)
                assert schema_differences(connection) == []

            downgrade(revision="base")
            with models_db.engine.connect() as connection:
                assert table_names(connection) == {"alembic_version"}
                assert connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 0

            upgrade()
            with models_db.engine.connect() as connection:
                assert set(models_db.metadata.tables) <= table_names(connection)
                assert DATASET_SEARCH.fts_table in table_names(connection)
                assert schema_differences(connection) == []
                heads = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
                assert len(heads) == 1
        finally:
            models_db.session.remove()
            models_db.engine.dispose()


def test_the_answer_migration_finds_the_figures_again_from_the_history(tmp_path_factory, tmp_path):
    """Threads written with the current rules, their figures and purposes taken away (down to 0003), then
    migrated again: the migration gives back each message's purpose and each thread's figures."""
    from datetime import UTC, datetime, timedelta

    from feedback import clock
    from feedback.threads import services
    from feedback.threads.models import Message, Thread, ThreadKind, ThreadStatus

    from . import factories

    path = tmp_path / "answers.sqlite3"
    fresh = make_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with fresh.app_context():
        try:
            upgrade()
            loiret = factories.create_organisation(name="DDT du Loiret")
            nievre = factories.create_organisation(name="DDT de la Nièvre", territory_code="D58")
            member = factories.create_user(organisation=loiret)
            other = factories.create_user(organisation=nievre)
            author = factories.create_user()
            dataset = factories.create_dataset(organisation=loiret)
            stories = []
            for number in range(3):
                with clock.frozen(start):
                    thread = services.create_thread(
                        author,
                        services.NewThread(
                            kind=ThreadKind.DATA_REQUEST, title=f"Demande {number}", body="Bonjour.", dataset=dataset
                        ),
                    )
                stories.append(thread)
            steps = [
                (stories[0], lambda t: services.ask_details(t, member, "Quelle commune ?")),
                (stories[0], lambda t: services.post_message(t, author, "Orléans.")),
                (stories[0], lambda t: services.post_message(t, member, "Voici.")),
                (stories[1], lambda t: services.extend_deadline(t, member, "Volume important.")),
                (stories[1], lambda t: services.transfer_thread(t, member, nievre, "La Nièvre détient la donnée.")),
                (stories[1], lambda t: services.post_message(t, other, "La voici.")),
                (stories[2], lambda t: services.change_status(t, member, ThreadStatus.RESOLVED)),
            ]
            for hour, (thread, step) in enumerate(steps, start=1):
                with clock.frozen(start + timedelta(days=1, hours=hour)):
                    step(thread)
            models_db.session.commit()

            def current():
                models_db.session.expire_all()
                figures = {
                    t.id: (t.received_at, t.first_response_at, t.answered_at)
                    for t in models_db.session.scalars(sa.select(Thread))
                }
                purposes = dict(models_db.session.execute(sa.select(Message.id, Message.purpose)).all())
                return figures, purposes

            before = current()
            assert set(before[1].values()) == {
                "reply",
                "answer",
                "details_request",
                "extension_motive",
                "transfer_note",
            }
            models_db.session.remove()
            downgrade(revision="0003")
            upgrade()

            assert current() == before
        finally:
            models_db.session.remove()
            models_db.engine.dispose()
