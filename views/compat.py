"""Fixes for Flask-AppBuilder 5.3 (imported once by views/__init__.py).

* WTForms 3.3 shows an option's value when its label is empty, so the blank choice of FAB's
  relation selects (value ``__None``, label "") reads "__None". It is given the label "—", as in
  our own selects.
* ``SQLAInterface.add`` re-raises a database error as it is, where ``edit`` and ``delete`` wrap
  it in ``DatabaseException``, which ``ModelRestApi`` answers with 422; so a POST breaking a
  constraint (a duplicate name, a value outside a CHECK) answered 500. ``post_headless`` now
  answers it with 422 too (found by tests/integration/test_api_fuzz.py).
"""

from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.fields import QuerySelectField
from sqlalchemy.exc import SQLAlchemyError

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
