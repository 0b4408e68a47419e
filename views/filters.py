"""Row-level access for FAB screens and REST APIs: a handler sees only its department's cases."""

from __future__ import annotations

from flask_appbuilder.models.filters import BaseFilter

from app.services.cases import visible_cases_clause
from models import Case
from views.common import current_actor


class VisibleCaseFilter(BaseFilter):
    """Keep the cases the logged-in user may see (applied to lists, shows and the API)."""

    name = "visible"

    def apply(self, query, value):
        return query.filter(visible_cases_clause(current_actor()))


class VisibleCaseChildFilter(BaseFilter):
    """Keep rows (events, assignments) whose case the logged-in user may see."""

    name = "visible_case"

    def apply(self, query, value):
        clause = visible_cases_clause(current_actor())
        case_ids = Case.__table__.select().with_only_columns(Case.id).where(clause)
        return query.filter(self.model.case_id.in_(case_ids))


class StatusInFilter(BaseFilter):
    name = "status_in"
    arg_name = "in"  # FAB passes the whole list to apply() only for "in" filters

    def apply(self, query, value):
        return query.filter(Case.status.in_([str(v) for v in value]))


class ClauseFilter(BaseFilter):
    """Apply a WHERE clause the services build for the logged-in actor (queues of one role)."""

    name = "clause"

    def apply(self, query, build_clause):
        return query.filter(build_clause(current_actor()))


class NotAboutOwnDepartmentFilter(BaseFilter):
    """Keep rows (rewards, inbox messages) whose case, if any, is not about the logged-in
    user's department or one above it (the conflict-of-interest half of the visibility rule,
    for roles that see these rows without seeing every case, such as Finance)."""

    name = "not_about_own_department"

    def apply(self, query, value):
        from sqlalchemy import or_

        from app.services.visibility import not_about_clause

        department_id = current_actor().department_id
        if department_id is None:
            return query
        case_ids = Case.__table__.select().with_only_columns(Case.id).where(not_about_clause(department_id))
        return query.filter(or_(self.model.case_id.is_(None), self.model.case_id.in_(case_ids)))
