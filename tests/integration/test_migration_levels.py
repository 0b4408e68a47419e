"""Upgrading a single-office database to jurisdictions moves everything into the province and
loses nothing: an installation of the last release (schema e7f5a4b6c8d0) with its departments,
staff, cases, notices, calendar and reward tiers is migrated to head on a database of its own."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from tests.conftest import _reset_database, throwaway_database_url

BEFORE = "e7f5a4b6c8d0"
NOW = datetime(2026, 11, 2, 2, 0)
# Values for the NOT NULL columns of the rows written before the upgrade (the rest get a
# plain value of their type).
GIVEN = {
    "department": {
        "id": 1,
        "name": "清源省营商环境建设局",
        "code": "P00",
        "level": "province",
        "region": "清源省",
    },
    "ab_user": {"id": 1, "username": "clerk", "first_name": "受理", "last_name": "张", "email": "c@x.cn"},
    "cases": {
        "id": 1,
        "number": "YS20261102000001",
        "status": "accepted",
        "case_type": "complaint",
        "channel": "window",
        "urgency": "normal",
        "title": "审批超时",
        "content": "迟迟没有结果",
        "region": "清源省/石门市/长河县",
    },
    "notice_counter": {"year": 2026, "last": 7},
    "notice": {
        "id": 1,
        "kind": "reminder",
        "cause": "unsigned",
        "cause_key": "reminder:unsigned:1",
        "year": 2026,
        "sequence": 7,
        "number": "营商督〔2026〕第7号",
        "department_id": 1,
        "state": "issued",
        "details": "未按时签收",
    },
    "calendar_day": {"id": 1, "day": date(2026, 10, 1), "kind": "holiday", "name": "国庆节"},
    "reward_tier": {
        "id": 1,
        "code": "tier1",
        "name": "一档",
        "min_yuan": 100,
        "max_yuan": 500,
        "active": True,
    },
}


def _plain(column):
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.Date):
        return NOW.date()
    return "x"


def _insert(connection, table_name: str) -> None:
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    row = dict(GIVEN[table_name])
    for column in table.columns:
        if column.name not in row and not column.nullable and not column.primary_key:
            row[column.name] = _plain(column)
    connection.execute(table.insert().values(**row))


@pytest.fixture
def old_installation(tmp_path_factory):
    from flask_migrate import upgrade

    from app.extensions import db
    from app.factory import create_app

    url = throwaway_database_url(tmp_path_factory, "upgrade")
    _reset_database(url)
    application = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    directory = str(application.config["BASE_DIR"] / "models" / "migrations")
    with application.app_context():
        upgrade(directory=directory, revision=BEFORE)
        with db.engine.begin() as connection:
            for table_name in GIVEN:
                _insert(connection, table_name)
        yield lambda: upgrade(directory=directory)
        db.session.remove()
        db.engine.dispose()


def test_an_existing_single_office_database_moves_into_the_province(old_installation):
    from app.extensions import db

    old_installation()  # to head
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id, name, region, parent_id, path, doc_prefix FROM jurisdiction")
        )
        assert [tuple(r) for r in rows] == [(1, "清源省", "清源省", None, "/1/", "营商督")]
        for table_name in ("department", "ab_user", "cases", "notice"):
            assert connection.execute(sa.text(f"SELECT jurisdiction_id FROM {table_name}")).scalar_one() == 1
        case = connection.execute(sa.text("SELECT number, status, region FROM cases")).one()
        assert tuple(case) == ("YS20261102000001", "accepted", "清源省/石门市/长河县")
        # The notice keeps the number it was issued under, and the series continues after it.
        assert connection.execute(sa.text("SELECT number FROM notice")).scalar_one() == "营商督〔2026〕第7号"
        counter = connection.execute(sa.text("SELECT jurisdiction_id, year, last FROM notice_counter")).one()
        assert tuple(counter) == (1, 2026, 7)
        day = connection.execute(sa.text("SELECT day, kind, jurisdiction_id FROM calendar_day")).one()
        assert (str(day[0])[:10], day[1], day[2]) == ("2026-10-01", "holiday", None)
        tier = connection.execute(sa.text("SELECT code, jurisdiction_id FROM reward_tier")).one()
        assert tuple(tier) == ("tier1", None)
