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

from sqlalchemy import JSON, Boolean, DateTime, Enum, bindparam, column, func, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import MANYTOONE, make_transient_to_detached
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


def _json_converters(table, names, dialect) -> list:
    """How each column's value goes into a JSON text PostgreSQL reads back as the column's type
    (None: as it is)."""
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
    return converters


def _json_rows(rows: list[dict], names, converters):
    """The rows as the JSON-ready values of their columns."""
    if not any(converters):
        return rows
    return [
        {
            name: row[name] if row[name] is None or convert is None else convert(row[name])
            for name, convert in zip(names, converters, strict=True)
        }
        for row in rows
    ]


def _json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_value)


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
    payload = _json_text(_json_rows(rows, names, _json_converters(table, names, dialect)))
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


def _loaded_row(obj) -> tuple:
    """The table, column values and database-assigned primary key attribute (or None) of a new
    object, its defaults and its foreign keys (from the many-to-one relationships set on it)
    written into its state as a loaded object has them."""
    state = inspect(obj)
    mapper = state.mapper
    for relation in mapper.relationships:
        if relation.direction is MANYTOONE and state.dict.get(relation.key) is not None:
            target = state.dict[relation.key]
            for local, remote in relation.local_remote_pairs:
                state.dict[mapper.get_property_by_column(local).key] = getattr(
                    target, inspect(target).mapper.get_property_by_column(remote).key
                )
    values, generated = {}, None
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if attr.key not in state.dict:
            if column.primary_key:
                generated = attr
                continue
            default = column.default
            state.dict[attr.key] = default.arg if default is not None and default.is_scalar else None
        values[column.key] = state.dict[attr.key]
    return state, mapper.local_table, values, generated


_COMBINED: dict[tuple, tuple] = {}  # the shape of the rows -> their statement and converters


def _combined_insert(shape, dialect, also: tuple[str, ...] = ()) -> tuple:
    """One statement of data-modifying CTEs inserting a row into each table, each row given as
    one JSON text (``r<i>``, read by ``json_populate_record`` as the table's row type), selecting
    the primary keys the database assigned, then the scalar subqueries ``also``; and each row's
    column converters. One parameter per row and a statement of about 2,000 characters: the
    driver parses the statement once per process (it parsed the 100 placeholders of one
    parameter per column on every filing, 1 ms)."""
    quote = dialect.identifier_preparer.quote
    ctes, keys, converters = [], [], []
    for i, (table, names, generated) in enumerate(shape):
        listed = ", ".join(quote(name) for name in names)
        name = dialect.identifier_preparer.format_table(table)
        returning = f" RETURNING {quote(generated.columns[0].name)}" if generated is not None else ""
        ctes.append(
            f"row{i} AS (INSERT INTO {name} ({listed}) SELECT {listed} "
            f"FROM json_populate_record(NULL::{name}, CAST(:r{i} AS json)){returning})"
        )
        if generated is not None:
            keys.append(f"(SELECT {quote(generated.columns[0].name)} FROM row{i})")
        converters.append(_json_converters(table, names, dialect))
    return text(f"WITH {', '.join(ctes)} SELECT {', '.join([*keys, *also]) or '1'}"), converters


def insert_loaded(
    session, *objects, also: tuple[str, ...] = (), also_params: dict | None = None
) -> tuple | None:
    """Write new mapped objects (parents first) without the unit of work, and make them part of
    the session as if just loaded. The filing path's case, event and reporter went through a
    flush that cost more Python than the request's whole framework (bench/web.py); no flush
    hook sees these rows, so a caller needing a hook's effect does it itself.

    Every column gets the value set on the object, else its scalar default, else NULL (reading
    it afterwards needs no SQL); a primary key the database assigns is read back. On
    PostgreSQL, when every parent's id is known beforehand (drawn from its sequence), the rows
    go in one statement of data-modifying CTEs: one round trip instead of one per row; that
    statement also selects the scalar subqueries ``also`` (SQL text, bound by ``also_params``),
    whose values are returned (None when the rows went one by one: the caller reads them)."""
    selected = None
    if (
        postgres(session)
        and len(objects) > 1
        and inspect(objects[0]).mapper.primary_key[0].key in objects[0].__dict__
    ):
        rows = [_loaded_row(obj) for obj in objects]
        shape = tuple((table, tuple(values), generated) for _state, table, values, generated in rows)
        if (shape, also) not in _COMBINED:
            _COMBINED[(shape, also)] = _combined_insert(shape, session.get_bind().dialect, also)
        statement, converters = _COMBINED[(shape, also)]
        params = {
            f"r{i}": _json_text(_json_rows([row[2]], names, convert)[0])
            for i, ((_table, names, _generated), row, convert) in enumerate(
                zip(shape, rows, converters, strict=True)
            )
        }
        found = tuple(session.execute(statement, {**params, **(also_params or {})}).one())
        generated_rows = [row for row in rows if row[3] is not None]
        for (state, _table, _values, generated), new_id in zip(
            generated_rows, found[: len(generated_rows)], strict=True
        ):
            state.dict[generated.key] = new_id
        selected = found[len(generated_rows) :]
    else:
        for obj in objects:
            _state, table, values, generated = _loaded_row(obj)
            if generated is None:
                session.execute(table.insert(), values)
            else:
                _state.dict[generated.key] = session.execute(
                    table.insert().returning(generated.columns[0]), values
                ).scalar_one()
    for obj in objects:  # all detached first: adding a parent cascades to its children
        make_transient_to_detached(obj)
    for obj in objects:
        session.add(obj)
    return selected
