"""Many rows in one short statement: what the sweep needs to act on a thousand items in a second.

A multi-row INSERT or a long IN list is cheap for PostgreSQL but costly for the driver, which
parses every placeholder in Python (about 0.4 ms per notice row). On PostgreSQL the values go as
one array per column instead (``unnest`` / ``= ANY``): the statement stays a few lines long
whatever the number of rows. Other databases (SQLite in tests and the demo) get the portable
form.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence

from sqlalchemy import JSON, Boolean, Enum, String, bindparam, cast, column, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


def postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session, table):
    """INSERT with the ON CONFLICT clauses of the database in use (PostgreSQL or SQLite)."""
    return (postgresql.insert if postgres(session) else sqlite.insert)(table)


def any_of(session, col, values: Sequence):
    """``col IN values``, as a single array parameter on PostgreSQL."""
    if postgres(session):
        return col == func.any(bindparam(None, list(values), type_=ARRAY(col.type)))
    return col.in_(list(values))


class in_select(ColumnElement):  # noqa: N801  (reads as the operator it stands for)
    """``column IN (query)``; on PostgreSQL ``column = ANY(ARRAY(query))``, an array read once,
    which the planner looks up in an index and ORs with other indexed conditions (a BitmapOr),
    where a sub-select is a hashed filter applied to every row of the table: the supervision
    queue counted its cases in 430 ms at 1 million cases that way, 60 ms this way (bench/lists.py)."""

    type = Boolean()
    _is_implicitly_boolean = True  # a condition, not a value to compare with true
    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("query", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column, query):
        self.column = column
        self.query = query.scalar_subquery() if hasattr(query, "scalar_subquery") else query


@compiles(in_select)
def _in_select(element, compiler, **kw):
    column, query = compiler.process(element.column, **kw), compiler.process(element.query.element, **kw)
    return f"{column} IN ({query})"


@compiles(in_select, "postgresql")
def _in_select_postgresql(element, compiler, **kw):
    column, query = compiler.process(element.column, **kw), compiler.process(element.query.element, **kw)
    return f"{column} = ANY(ARRAY({query}))"


def _storable(value):
    return value.value if isinstance(value, enum.Enum) else value


def insert_rows(
    session, table, rows: list[dict], *, skip_conflicts_on: str | None = None, returning: Sequence = ()
):
    """Insert ``rows`` (dicts with the same keys) into a Core ``table`` in one statement;
    rows whose ``skip_conflicts_on`` value exists already are skipped. Returns the result
    (rows of ``returning`` for the rows inserted)."""
    names = list(rows[0])
    if not postgres(session):
        stmt = dialect_insert(session, table)
        if skip_conflicts_on:
            stmt = stmt.on_conflict_do_nothing(index_elements=[skip_conflicts_on])
        if returning:
            stmt = stmt.returning(*returning)
        return session.execute(stmt, rows)
    arrays, columns = [], []
    for name in names:
        col = table.c[name]
        values = [_storable(row[name]) for row in rows]
        if isinstance(col.type, JSON):  # sent as text, turned back into JSON in the SELECT
            item_type = String()
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        elif isinstance(col.type, Enum):
            item_type = String()
        else:
            item_type = col.type
        arrays.append(bindparam(None, values, type_=ARRAY(item_type)))
        columns.append(column(name, item_type))
    source = func.unnest(*arrays).table_valued(*columns).render_derived()
    picked = [
        cast(source.c[name], table.c[name].type) if isinstance(table.c[name].type, JSON) else source.c[name]
        for name in names
    ]
    stmt = postgresql.insert(table).from_select(names, select(*picked))
    if skip_conflicts_on:
        stmt = stmt.on_conflict_do_nothing(index_elements=[skip_conflicts_on])
    if returning:
        stmt = stmt.returning(*returning)
    return session.execute(stmt)
