"""Many rows in one short statement: what the sweep needs to act on a thousand items in a second.

A multi-row INSERT or a long IN list is cheap for PostgreSQL but costly for the driver, which
parses every placeholder in Python (about 0.4 ms per notice row). On PostgreSQL the rows to
insert go as one JSON text (``json_to_recordset``) and a list of ids as one array (``= ANY``):
the statement stays a few lines long whatever the number of rows. Other databases (SQLite in
tests and the demo) get the portable form.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import JSON, Boolean, DateTime, Enum, bindparam, column, func, select, text
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


def _naive_utc(value):
    """A moment as the columns without time zone hold it (naive UTC), also when given aware."""
    return value.astimezone(UTC).replace(tzinfo=None) if getattr(value, "tzinfo", None) else value


def _json_value(value):
    """What ``json.dumps`` cannot write itself: dates and times (ISO 8601, which PostgreSQL reads
    back as the column's type), decimals."""
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot go into a bulk insert")


def insert_rows(
    session, table, rows: list[dict], *, skip_conflicts_on: str | None = None, returning: Sequence = ()
):
    """Insert ``rows`` (dicts with the same keys) into a Core ``table`` in one statement;
    rows whose ``skip_conflicts_on`` value exists already are skipped. Returns the result
    (rows of ``returning`` for the rows inserted).

    On PostgreSQL the rows go as one JSON text, ``INSERT ... SELECT FROM json_to_recordset``:
    written by the C encoder of ``json`` and read by the server, where one array per column
    costs the driver an escape of every text element in Python (40 % of a sweep's time)."""
    names = list(rows[0])
    if not postgres(session):
        stmt = dialect_insert(session, table)
        if skip_conflicts_on:
            stmt = stmt.on_conflict_do_nothing(index_elements=[skip_conflicts_on])
        if returning:
            stmt = stmt.returning(*returning)
        return session.execute(stmt, rows)
    dialect = session.get_bind().dialect
    converters = []
    for name in names:
        col_type = table.c[name].type
        if isinstance(col_type, JSON):  # nested as it is: the column reads it as JSON
            converters.append(None)
        elif isinstance(col_type, Enum):
            converters.append(_storable)
        elif isinstance(col_type, DateTime) and not col_type.timezone:
            converters.append(_naive_utc)
        else:  # a type of the application's (encrypted text) turns each value as it would alone
            converters.append(col_type._cached_bind_processor(dialect))
    if any(converters):
        rows = [
            {
                name: row[name] if row[name] is None or convert is None else convert(row[name])
                for name, convert in zip(names, converters, strict=True)
            }
            for row in rows
        ]
    payload = json.dumps(rows, ensure_ascii=False, default=_json_value)
    record = ", ".join(
        f"{dialect.identifier_preparer.quote(name)} {table.c[name].type.compile(dialect=dialect)}"
        for name in names
    )
    source = select(*(column(name) for name in names)).select_from(
        text(f"json_to_recordset(CAST(:rows AS json)) AS batch({record})").bindparams(rows=payload)
    )
    stmt = postgresql.insert(table).from_select(names, source)
    if skip_conflicts_on:
        stmt = stmt.on_conflict_do_nothing(index_elements=[skip_conflicts_on])
    if returning:
        stmt = stmt.returning(*returning)
    return session.execute(stmt)
