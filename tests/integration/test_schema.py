"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def test_the_migrated_database_matches_the_models(session):
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    differences = [
        d
        for d in compare_metadata(context, db.Model.metadata)
        if not (isinstance(d, tuple) and d[0] == "remove_table")
    ]
    assert differences == []
