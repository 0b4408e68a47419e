"""Input the REST API refuses before it reaches the database, for every operation at once
(ours and Flask-AppBuilder's own security API): text with unpaired surrogates (no database can
store it), integers outside the 32-bit range of every id and number column, and a negative page
or page size of a list (a negative OFFSET, which PostgreSQL refuses). NUL characters are dropped
from JSON bodies, as app.requests drops them from forms and query strings. Found by the
schemathesis run in tests/integration/test_api_fuzz.py, where each gave a 500.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import prison
from flask import jsonify, request
from flask_babel import gettext

from app.requests import without_nul

LIMIT = 2**31 - 1


def _problem(value) -> str | None:
    """What is wrong with a decoded request value, if anything."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "number" if abs(value) > LIMIT else None
    if isinstance(value, float):
        return "number" if value != value or abs(value) > 1e15 else None  # NaN or absurd
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text"
        return None
    if isinstance(value, dict):
        return next(filter(None, (_problem(k) or _problem(v) for k, v in value.items())), None)
    if isinstance(value, (list, tuple)):
        return next(filter(None, map(_problem, value)), None)
    return None


def _drop_nul(value):
    """Remove NUL characters from a parsed JSON body in place (PostgreSQL cannot store them;
    query strings and forms are cleaned by app.requests)."""
    if isinstance(value, dict):
        for key in list(value):
            cleaned = _drop_nul(value.pop(key))
            value[without_nul(key)] = cleaned
    elif isinstance(value, list):
        value[:] = [_drop_nul(v) for v in value]
    elif isinstance(value, str):
        return without_nul(value)
    return value


def _paging_out_of_range(q) -> bool:
    """A list asked for a negative page or page size (FAB turns it into a negative OFFSET,
    which PostgreSQL refuses; SQLite accepts it silently), or one so large that the OFFSET
    overflows the database's 64-bit integer (found by the deep fuzz): both were 500s."""
    return isinstance(q, dict) and any(
        isinstance(q.get(key), (int, float)) and not isinstance(q.get(key), bool) and not 0 <= q[key] <= LIMIT
        for key in ("page", "page_size")
    )


def _digits_too_long(value) -> bool:
    digits = value.lstrip("-") if isinstance(value, str) else ""
    # ASCII digits only: "²".isdigit() is true, and int("²") fails (the deep fuzz found it)
    return digits.isascii() and digits.isdigit() and abs(int(digits)) > LIMIT


def _unknown_user(app, pk) -> bool:
    """Flask-AppBuilder's PUT /api/v1/security/users/<pk> crashes on an unknown user. Answer
    404 instead, to those allowed to edit users only (others get FAB's 401/403 as before)."""
    from flask_jwt_extended import verify_jwt_in_request

    sm = app.appbuilder.sm
    try:
        verify_jwt_in_request(optional=True)
    except Exception:  # noqa: BLE001 - a bad token: FAB's own check answers 401
        return False
    if not sm.has_access("can_put", "User"):
        return False
    try:
        return sm.get_user_by_id(int(pk)) is None
    except (TypeError, ValueError):
        return True


def guard_api_input(app) -> None:
    @app.before_request
    def refuse_unstorable_input():
        if not request.path.startswith("/api/"):
            return None
        view_args = request.view_args or {}
        if any(_digits_too_long(v) or _problem(v) for v in view_args.values()):
            return jsonify(message=gettext("Not found.")), 404
        if request.endpoint == "UserApi.put" and _unknown_user(app, view_args.get("pk")):
            return jsonify(message=gettext("Not found.")), 404
        values = [*request.args.values(), *request.args.keys()]
        if "q" in request.args:
            try:
                values.append(prison.loads(request.args["q"]))
            except Exception:  # noqa: BLE001 - not rison: FAB then reads it as JSON, as here
                try:
                    values.append(json.loads(unquote(request.args["q"])))
                except ValueError:  # neither: FAB answers 400 itself
                    pass
            if _paging_out_of_range(values[-1]):
                message = gettext("page and page_size must be whole numbers from 0 to %(max)s.", max=LIMIT)
                return jsonify(message=message), 400
        body = None
        if request.is_json:
            body = request.get_json(silent=True)  # parsed once; the views get this object
            values.append(_drop_nul(body))
        if (
            request.endpoint == "SecurityApi.login"
            and isinstance(body, dict)
            and not all(isinstance(body.get(k), str) for k in ("username", "password", "provider"))
        ):
            # FAB's login reads these without checking they are there (KeyError → 500).
            return jsonify(message=gettext("Give username, password and provider.")), 400
        problem = _problem(values)
        if problem == "text":
            return jsonify(message=gettext("The request contains characters that are not valid text.")), 400
        if problem == "number":
            return jsonify(message=gettext("A number in the request is out of range.")), 400
        return None
