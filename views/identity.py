"""Need to know: the custodian's queue of requests to see who filed a case (approve, refuse).

The request button is on the case page (views/cases.py, CaseActionView.request_identity); the
rules are in app/services/protection.py.
"""

from __future__ import annotations

from flask import abort, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.enums import IdentityRequestState
from app.extensions import db
from app.services import protection
from app.services.visibility import visible_cases_clause
from models import Case, IdentityRequest
from views.common import current_actor, label, local_time, run_posted


class RequestsOnVisibleCasesFilter(BaseFilter):
    """Only requests about cases the reader may see (the visibility rule holds here too)."""

    name = "visible_requests"

    def apply(self, query, value):
        visible = (
            Case.__table__.select().with_only_columns(Case.id).where(visible_cases_clause(current_actor()))
        )
        return query.filter(IdentityRequest.case_id.in_(visible))


def _case_link(case) -> Markup | str:
    if case is None:
        return "—"
    return Markup('<a href="{}">{}</a>').format(url_for("CaseView.show", pk=case.id), case)


class IdentityRequestView(ModelView):
    """Requests to see a reporter, the waiting ones first (the custodian decides them)."""

    datamodel = SQLAInterface(IdentityRequest)
    route_base = "/identity"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", RequestsOnVisibleCasesFilter, None]]
    base_order = ("id", "desc")
    list_title = _l("Identity requests")
    show_title = _l("Identity request")
    list_columns = [
        "case",
        "requested_by_name",
        "reason",
        "requested_at",
        "state",
        "decided_by_name",
        "expires_at",
    ]
    search_columns = ["state", "requested_by_name", "requested_at"]
    label_columns = {
        "case": _l("Case"),
        "requested_by_name": _l("Requested by"),
        "reason": _l("Reason"),
        "requested_at": _l("Requested at"),
        "state": _l("State"),
        "decided_by_name": _l("Decided by"),
        "decided_at": _l("Decided at"),
        "decision_note": _l("Decision note"),
        "expires_at": _l("May see until"),
    }
    formatters_columns = {
        "case": _case_link,
        "state": label,
        "requested_at": local_time,
        "decided_at": local_time,
        "expires_at": local_time,
    }

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        actor = current_actor()
        return self.render_template(
            "identity/request.html",
            item=item,
            label=label,
            local_time=local_time,
            may_decide=protection.may_decide(item, actor),
            title=self.show_title,
            appbuilder=self.appbuilder,
        )


class PendingRequestFilter(BaseFilter):
    name = "pending_requests"

    def apply(self, query, value):
        return query.filter(IdentityRequest.state == IdentityRequestState.PENDING.value)


class IdentityRequestQueueView(IdentityRequestView):
    """The custodian's queue: requests waiting for a decision, the oldest first."""

    route_base = "/identity/pending"
    base_filters = [["id", RequestsOnVisibleCasesFilter, None], ["id", PendingRequestFilter, None]]
    base_order = ("requested_at", "asc")
    list_title = _l("Identity requests to decide")


class IdentityRequestActionView(BaseView):
    route_base = "/identity/act"

    @expose("/<int:request_id>/decide", methods=["POST"])
    @has_access
    def decide(self, request_id: int):
        """The custodian approves or refuses a request (a refusal says why)."""
        approve = request.form.get("approve") == "1"
        return run_posted(
            lambda actor, now: protection.decide_identity_request(
                db.session, request_id, actor=actor, now=now, approve=approve, note=request.form.get("note")
            ),
            _l("The request has been approved.") if approve else _l("The request has been refused."),
            url_for("IdentityRequestView.show", pk=request_id),
        )
