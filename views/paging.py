"""Lists of a million cases: count at most a bounded number of rows, page only within them.

Flask-AppBuilder counts every matching row for its pager and pages with OFFSET. On the case
lists both grow with the table (a full COUNT over 1 million cases on every page view). Here the
count stops at ``COUNT_CAP`` + 1 rows, the pager offers the first ``COUNT_CAP`` rows, and the page
says "more than 10,000: use the filters"; a list is always sorted, so the newest (or most urgent)
cases come first, and older ones are reached by filtering (filing date, status, department,
case number), as in any search engine.
"""

from __future__ import annotations

import math

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.widgets import ListWidget
from sqlalchemy import func, inspect

COUNT_CAP = 10_000


class BoundedCountInterface(SQLAInterface):
    clamp_pages = True  # screens: the pager stays within the rows counted

    def query_count(self, query, filters=None, select_columns=None) -> int:
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        key = inspect(self.obj).primary_key[0]
        bounded = inner.order_by(None).with_entities(key).limit(COUNT_CAP + 1).subquery()
        return self.session.query(func.count()).select_from(bounded).scalar()

    def apply_pagination(self, query, page, page_size):
        if self.clamp_pages and page and page_size and page * page_size >= COUNT_CAP:
            page = math.ceil(COUNT_CAP / page_size) - 1  # the last page the pager offers
        return super().apply_pagination(query, page, page_size)


class BoundedCountApiInterface(BoundedCountInterface):
    """The REST API's lists: ``count`` stops at 10,001 ("more than 10,000"), but a client
    paging on by number still gets every page."""

    clamp_pages = False


class BoundedListWidget(ListWidget):
    """The list widget, told where counting stopped (the template says "more than")."""

    def __init__(self, **kwargs):
        super().__init__(count_cap=COUNT_CAP, **kwargs)
