"""Row-level access for FAB screens and REST APIs: a handler sees only its department's cases."""

from __future__ import annotations

from flask_appbuilder.models.filters import BaseFilter

from app import clock
from app.enums import ExtensionState
from app.services.cases import visible_cases_clause
from app.workflow import Status
from models import Assignment, Case, ExtensionRequest
from views.common import current_actor

# Statuses in which the handling deadline runs (after acceptance, before the reply).
HANDLING_STATUSES = (Status.ACCEPTED, Status.DISPATCHED, Status.RETURNED, Status.HANDLING)


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


class NeedsSupervisorFilter(BaseFilter):
    """Cases waiting for the supervisor: a reply to evaluate, an unsatisfied rating to decide,
    or an extension request."""

    name = "needs_supervisor"

    def apply(self, query, value):
        return query.filter(
            Case.status.in_([Status.REPLIED.value, Status.UNSATISFIED.value])
            | Case.extensions.any(ExtensionRequest.state == ExtensionState.PENDING.value))


class OverdueFilter(BaseFilter):
    """Open cases whose stored deadline (acceptance or handling) has passed."""

    name = "overdue"

    def apply(self, query, value):
        now = clock.utcnow()
        return query.filter(
            ((Case.status == Status.SUBMITTED.value) & (Case.accept_due_at < now))
            | (Case.status.in_([s.value for s in HANDLING_STATUSES]) & (Case.due_at < now)))


class MyDepartmentFilter(BaseFilter):
    """Keep cases actively assigned to the user's own department (handler's queue)."""

    name = "my_department"

    def apply(self, query, value):
        department_id = current_actor().department_id
        return query.filter(
            Case.assignments.any((Assignment.active.is_(True))
                                 & (Assignment.department_id == department_id)))
