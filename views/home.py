"""The landing page: what waits for the logged-in user, by role."""

from __future__ import annotations

import time

from flask import current_app, g
from flask_appbuilder import IndexView, expose
from sqlalchemy import func, select, true

from app import clock
from app.extensions import db
from app.services.cases import visible_cases_clause
from app.workflow import OPEN_STATUSES, Status
from models import Assignment, Case
from views.common import current_actor, label

# What waits, per scope (one office's jurisdiction and those under it, one department, one
# connected system): counting tens of thousands of open cases on every visit of the landing
# page costs 300-450 ms at 1 million cases, so the figures are kept for HOME_COUNTS_SECONDS
# (the lists themselves are always live).
_counted: dict[tuple, tuple[float, dict, int]] = {}


def _scope(actor) -> tuple:
    """What decides the figures: the same key, the same counts (the visibility rule's inputs)."""
    if actor.sees_all_cases:  # an office: its jurisdiction's scope, less its own department's cases
        return ("office", actor.jurisdiction_path, actor.department_id)
    return (tuple(sorted(actor.roles)), actor.department_id, actor.id)


class HomeView(IndexView):
    route_base = ""
    index_template = "home.html"

    @expose("/")
    def index(self):
        actor = current_actor()
        counts, overdue = {}, 0
        if getattr(g, "user", None) is not None and g.user.is_authenticated and actor.roles:
            counts, overdue = self._what_waits(actor)
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            counts=counts,
            overdue=overdue,
            actor=actor,
            label=label,
            statuses=[s for s in Status if s in OPEN_STATUSES],
            work_link=lambda key: self._work_link(key),
        )

    # Where a tile leads: the user's own queue for that status (the first list of these the
    # user may open), filtered to the status.
    WORK_LISTS = {
        Status.SUBMITTED: ("IntakeQueueView", "DepartmentCaseView", "CaseView"),
        Status.ACCEPTED: ("DispatchQueueView", "CaseView"),
        Status.RETURNED: ("DispatchQueueView", "CaseView"),
        "overdue": ("OverdueCaseView",),
        "unsigned": ("DepartmentCaseView",),
    }

    def _work_link(self, key) -> str | None:
        from flask import url_for

        sm = self.appbuilder.sm
        views = self.WORK_LISTS.get(key) or (
            ("SupervisionQueueView", "DepartmentCaseView", "CaseView")
            if key in (Status.REPLIED, Status.UNSATISFIED, Status.EVALUATED)
            else ("DepartmentCaseView", "CaseView")
        )
        for view in views:
            if sm.has_access("can_list", view):
                status = Status.DISPATCHED if key == "unsigned" else key
                args = {} if key == "overdue" else {"_flt_0_status": str(status)}
                return url_for(f"{view}.list", **args)
        return None

    def _what_waits(self, actor) -> tuple[dict, int]:
        key, now = _scope(actor), time.monotonic()
        cached = _counted.get(key)
        if cached and now - cached[0] < current_app.config.get("HOME_COUNTS_SECONDS", 30):
            return cached[1], cached[2]
        visible = visible_cases_clause(actor)
        # What waits: open cases only (an index range, not the whole history of closed
        # cases; totals are on the dashboard).
        rows = db.session.execute(
            select(Case.status, func.count())
            .where(visible, Case.status.in_([s.value for s in OPEN_STATUSES]))
            .group_by(Case.status)
        )
        counts = {Status(s): n for s, n in rows}
        overdue = db.session.scalar(
            select(func.count())
            .select_from(Case)
            .where(visible, Case.status.in_([s.value for s in OPEN_STATUSES]), Case.due_at < clock.utcnow())
        )
        if actor.department_id and not actor.sees_all_cases:
            unsigned = db.session.scalar(
                select(func.count())
                .select_from(Assignment)
                .where(
                    Assignment.department_id == actor.department_id,
                    Assignment.active == true(),
                    Assignment.state == "dispatched",
                )
            )
            counts["unsigned"] = unsigned
        _counted[key] = (now, counts, overdue)
        return counts, overdue
