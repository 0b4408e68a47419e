"""Input the screens refuse or clean before a view sees it (the REST API: views/api_guard.py).

Found by the crawler of tests/integration/test_crawl.py, where each gave a 500:

* an id beyond the range of the id columns in a URL path (``/cases/show/99999999999999999999``,
  FAB's ``/departmentview/show/<pk>``): no row has it, so the answer is 404;
* Flask-AppBuilder's list arguments, which it reads without checking them: ``page_<View>`` and
  ``psize_<View>`` go through ``int()`` (``abc`` raised ValueError, a negative page reached the
  database as a negative OFFSET, which PostgreSQL refuses), ``_oc_<View>`` was put into ORDER BY
  as it came (an unknown name failed to compile; a column the view does not offer for sorting
  could be sorted on), and ``_flt_<n>_<column>`` picked the n-th filter of a column without
  checking there is one (IndexError). Such arguments are dropped: the list is shown again with
  its defaults and a message saying why, never a crash.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import abort, flash, redirect, request
from flask_babel import lazy_gettext as _l

from app.ids import in_range

MAX_PAGE_SIZE = 100  # the largest page size the pager offers (25, 50, 75, 100)
# Flask-AppBuilder's own patterns (flask_appbuilder/urltools.py), matched the way it matches
# them: anywhere in the argument's name.
_LIST_ARGS = (
    ("page", re.compile("page_(.*)")),
    ("psize", re.compile("psize_(.*)")),
    ("_oc", re.compile("_oc_(.*)")),
    ("_od", re.compile("_od_(.*)")),
)
_FILTER_ARG = re.compile(r"_flt_(\d)_(.*)")

INVALID_LIST_ARGS = _l(
    "The address asked for a page, a page size, a sort order or a filter "
    "that does not exist; the list is shown without it."
)


def _whole_number(value: str) -> int | None:
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _too_large(value) -> bool:
    """An id that no row can have: an int (or a string of digits) beyond the id columns."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        text = value.strip().lstrip("-")
        if not (text.isascii() and text.isdigit()):
            return False
        value = int(text)
    return isinstance(value, int) and not in_range(value)


def _list_arg_ok(kind: str, value: str, view) -> bool:
    if view is None:
        return False
    if kind == "_od":
        return value in ("asc", "desc")
    if kind == "_oc":
        return value in (getattr(view, "order_columns", None) or ())
    number = _whole_number(value)
    if number is None:
        return False
    if kind == "page":
        return in_range(number)
    return 1 <= number <= max(MAX_PAGE_SIZE, getattr(view, "page_size", 0) or 0)


def _filter_arg_ok(key: str, view) -> bool:
    match = _FILTER_ARG.search(key)
    filters = getattr(view, "_filters", None)
    if match is None or filters is None:
        return True
    index, column = int(match[1]), match[2]
    search_filters = filters.get_search_filters()
    # FAB ignores a column it does not search on; it indexes the filters of one it does.
    return column not in search_filters or index < len(search_filters[column])


def invalid_list_args(args, views_by_name: dict, view=None) -> list[str]:
    """The names of the list arguments in ``args`` that Flask-AppBuilder would choke on (or
    that ask for something the view does not offer)."""
    bad = []
    for key in args:
        for kind, pattern in _LIST_ARGS:
            found = pattern.findall(key)
            if found and not all(
                _list_arg_ok(kind, value, views_by_name.get(found[0])) for value in args.getlist(key)
            ):
                bad.append(key)
                break
        else:
            if view is not None and not _filter_arg_ok(key, view):
                bad.append(key)
    return bad


def guard_screen_input(app) -> None:
    """Register the checks (once per app, by app.factory)."""
    registry: dict[str, dict] = {}

    def views() -> tuple[dict, dict]:
        if not registry:
            baseviews = app.appbuilder.baseviews
            registry["by_name"] = {type(v).__name__: v for v in baseviews}
            registry["by_blueprint"] = {
                v.blueprint.name: v for v in baseviews if getattr(v, "blueprint", None) is not None
            }
        return registry["by_name"], registry["by_blueprint"]

    @app.before_request
    def refuse_out_of_range_ids():
        if request.path.startswith("/api/"):
            return None  # views/api_guard.py answers in JSON
        for name, value in (request.view_args or {}).items():
            if isinstance(value, int) or name in ("pk", "id"):
                if _too_large(value):
                    abort(404)
        return None

    @app.before_request
    def drop_invalid_list_args():
        if request.path.startswith("/api/") or not request.args:
            return None
        by_name, by_blueprint = views()
        bad = invalid_list_args(request.args, by_name, by_blueprint.get(request.blueprint))
        if not bad:
            return None
        kept = [(k, v) for k, v in request.args.items(multi=True) if k not in bad]
        flash(INVALID_LIST_ARGS, "warning")
        target = request.path + (f"?{urlencode(kept)}" if kept else "")
        # A GET shows the list again; any other method is sent on with its body (307).
        return redirect(target, 302 if request.method in ("GET", "HEAD") else 307)
