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
