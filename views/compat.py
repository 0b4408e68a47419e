"""Fixes for Flask-AppBuilder 5.3 (imported once by views/__init__.py).

* WTForms 3.3 shows an option's value when its label is empty, so the blank choice of FAB's
  relation selects (value ``__None``, label "") reads "__None". It is given the label "—", as in
  our own selects.
* ``SQLAInterface.add`` re-raises a database error as it is, where ``edit`` and ``delete`` wrap
  it in ``DatabaseException``, which ``ModelRestApi`` answers with 422; so a POST breaking a
  constraint (a duplicate name, a value outside a CHECK) answered 500. ``post_headless`` now
  answers it with 422 too (found by tests/integration/test_api_fuzz.py).
* The REST API checks its ``q`` argument with ``jsonschema.validate``, which checks the schema
  itself and builds a validator on every request (8 ms of a 25 ms GET). The validator of each
  of FAB's (fixed) schemas is now built once.
* FAB's add and edit forms take any integer for an INTEGER column: 99999999999999999999 reached
  the database and failed there (SQLite's driver raises OverflowError, which is no database
  error, so FAB's add/edit did not roll back and the request ended in a 500; PostgreSQL's
  "integer out of range" was shown raw). Their integer fields now refuse what the column cannot
  store, with a form error (found by tests/integration/test_crawl.py).
* FAB's add form flashes ``str(error)`` of a refused save: the SQL statement and its
  parameters. ``SQLAInterface.add`` now raises the same error reading as a sentence with the
  database's one-line reason (screens and REST API alike).
* FAB asks ``session.get_bind().name`` before paging a list without a sort order (an MSSQL
  fix); a session bound to a Connection (the tests' outer transaction) has no ``name``: it now
  asks the dialect, which Engine and Connection both have.
"""

import jsonschema
from flask_appbuilder import api as fab_api
from flask_appbuilder import forms as fab_forms
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from sqlalchemy.exc import SQLAlchemyError
from wtforms import IntegerField

from app.ids import ID_LIMIT, in_range

BLANK_LABEL = "—"


def _with_blank_label(iter_choices):
    def wrapper(self):
        for choice in iter_choices(self):
            if choice[0] == "__None" and not choice[1]:
                choice = (choice[0], BLANK_LABEL, *choice[2:])
            yield choice

    wrapper.__wrapped__ = iter_choices
    return wrapper


if not hasattr(QuerySelectField.iter_choices, "__wrapped__"):
    QuerySelectField.iter_choices = _with_blank_label(QuerySelectField.iter_choices)


def _post_answering_422(post_headless):
    def wrapper(self, *args, **kwargs):
        try:
            return post_headless(self, *args, **kwargs)
        except SQLAlchemyError as error:  # FAB's add has logged it and rolled back
            return self.response_422(message=str(getattr(error, "orig", error)))

    wrapper.__wrapped__ = post_headless
    return wrapper


if not hasattr(ModelRestApi.post_headless, "__wrapped__"):
    ModelRestApi.post_headless = _post_answering_422(ModelRestApi.post_headless)


_REFUSED: dict[type, type] = {}


def refused_save(error: SQLAlchemyError) -> SQLAlchemyError:
    """The same error (same class: callers that catch IntegrityError still do), reading as a
    sentence with the database's one-line reason instead of the statement and parameters."""
    cls = type(error)
    if cls not in _REFUSED:
        _REFUSED[cls] = type(f"Refused{cls.__name__}", (cls,), {"__str__": lambda self: self.user_message})
    clone = _REFUSED[cls].__new__(_REFUSED[cls])
    clone.__dict__.update(error.__dict__)
    clone.args = error.args
    detail = str(getattr(error, "orig", error)).splitlines()[0][:200]
    clone.user_message = gettext(
        "The record could not be saved: a value is a duplicate or outside what is allowed (%(detail)s).",
        detail=detail,
    )
    return clone


def _add_refusing_cleanly(add):
    def wrapper(self, *args, **kwargs):
        try:
            return add(self, *args, **kwargs)
        except SQLAlchemyError as error:  # FAB's add has logged it and rolled back
            if type(error) in _REFUSED.values():
                raise
            raise refused_save(error) from error

    wrapper.__wrapped__ = add
    return wrapper


if not hasattr(SQLAInterface.add, "__wrapped__"):
    SQLAInterface.add = _add_refusing_cleanly(SQLAInterface.add)


class _ValidatorPerSchema:
    """Stands in for the ``jsonschema`` module inside flask_appbuilder.api."""

    ValidationError = jsonschema.ValidationError
    _validators: dict[int, tuple[dict, object]] = {}

    @classmethod
    def validate(cls, instance, schema):
        entry = cls._validators.get(id(schema))
        if entry is None or entry[0] is not schema:
            entry = (schema, jsonschema.validators.validator_for(schema)(schema))
            cls._validators[id(schema)] = entry
        error = jsonschema.exceptions.best_match(entry[1].iter_errors(instance))
        if error is not None:
            raise error


if fab_api.jsonschema is jsonschema:
    fab_api.jsonschema = _ValidatorPerSchema


class StoredIntegerField(IntegerField):
    """An integer field that refuses what a 32-bit INTEGER column cannot store."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not in_range(self.data):
            self.data = None
            raise ValueError(
                gettext(
                    "Enter a whole number between %(low)s and %(high)s.", low=-ID_LIMIT - 1, high=ID_LIMIT
                )
            )


fab_forms.FieldConverter.conversion_table = tuple(
    (marker, StoredIntegerField if field is IntegerField else field, widget)
    for marker, field, widget in fab_forms.FieldConverter.conversion_table
)


def _engine_hack_by_dialect(self, query, page, page_size, order_column):
    # FAB's MSSQL fix, asking the dialect (Engine and Connection both have one).
    if page and page_size and not order_column and self.session.get_bind().dialect.name == "mssql":
        return query.order_by(self.get_pk_name())
    return query


SQLAInterface.apply_engine_specific_hack = _engine_hack_by_dialect
