"""Helpers shared by the screens and the REST API: the acting user, labels, time display."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext

from app import clock
from app.early_warning import LABELS as WARNING_LABELS
from app.early_warning import RULES
from app.enums import LABELS
from app.inspections import LABELS as INSPECTION_LABELS
from app.services.actor import Actor
from app.workflow import (
    ACTION_LABELS,
    EVENT_LABELS,
    REPORTER_STATUS_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
)


def current_actor() -> Actor:
    """Return the logged-in user as a service actor (anonymous: no roles)."""
    user = current_app.appbuilder.sm.current_user  # session login, or the JWT of an API call
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(None, "anonymous", frozenset())
    return Actor.from_user(user)


_TABLES = (
    STATUS_LABELS,
    ACTION_LABELS,
    ROLE_LABELS,
    LABELS,
    EVENT_LABELS,
    INSPECTION_LABELS,
    WARNING_LABELS,
    {rule_type: rule.label for rule_type, rule in RULES.items()},
)
# By enum and value: values are shared across enums ("unsatisfied" is a rating and a status,
# "dispatched" an assignment state and a status), and a member must get its own label.
_BY_MEMBER = {(type(key), str(key)): msgid for table in _TABLES for key, msgid in table.items()}


def label(value) -> str:
    """Translate the label of any domain enum value (status, action, type...)."""
    if value is None or value == "":
        return ""
    msgid = _BY_MEMBER.get((type(value), str(value)))
    if msgid is not None:
        return gettext(msgid)
    for table in _TABLES:  # a plain stored string (an event's action or status)
        if value in table:
            return gettext(table[value])
    return str(value)


def reporter_status(status) -> str:
    """The status of a case as the reporter sees it (never the staff's working labels)."""
    return gettext(REPORTER_STATUS_LABELS[status]) if status in REPORTER_STATUS_LABELS else ""


def fixed_text(text) -> str:
    """Translate a stored text that may be a fixed msgid (an event's text for the reporter) as
    plain text, escaped like any data: ``_()`` in a template would return it as Markup."""
    return gettext(text) if text else ""


def local_time(moment) -> str:
    """Show a stored UTC datetime in Asia/Shanghai time."""
    local = clock.to_local(moment)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def run_posted(do, success, back: str, then=None):
    """Run a CSRF-checked POST that calls one service, flash the outcome, and redirect to
    ``then(result)`` on success (when given) or back to ``back``. The request boundary commits;
    a refusal rolls back and returns to ``back`` with its message (app.factory)."""
    from flask import flash, g, redirect
    from flask_appbuilder.forms import DynamicForm
    from flask_babel import lazy_gettext

    if not DynamicForm().validate_on_submit():
        flash(lazy_gettext("The form could not be submitted; please try again."), "danger")
        return redirect(back)
    g.back = back
    result = do(current_actor(), clock.utcnow())
    flash(success, "success")
    return redirect(then(result) if then else back)


def attempt(do):
    """Call a service whose refusal shows the form again with what was typed: on a domain
    error the unit of work is discarded and the error returned; a missing object is a 404."""
    from sqlalchemy.exc import IntegrityError

    from app.errors import DomainError, DoneMeanwhile, NotFound
    from app.extensions import db
    from app.transaction import discard

    try:
        return do(), None
    except NotFound:
        raise
    except DomainError as error:
        discard(db.session)
        return None, error
    except IntegrityError:  # a double submit the checks could not see (SQLite locks no rows)
        discard(db.session)
        return None, DoneMeanwhile()
