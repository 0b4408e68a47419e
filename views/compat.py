"""Display fixes for Flask-AppBuilder 5.3 on WTForms 3.3 (imported once by views/__init__.py).

WTForms 3.3 shows an option's value when its label is empty, so the blank choice of FAB's
relation selects (value ``__None``, label "") reads "__None". It is given the label "—", as in
our own selects.
"""

from flask_appbuilder.fields import QuerySelectField

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
