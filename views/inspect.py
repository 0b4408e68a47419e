"""Inspections by scanning (入企扫码), phone pages: the officer scans the enterprise's code and
registers the inspection, then finishes it; the enterprise, through its own code, confirms and
rates each inspection or reports a problem (which files a case). Thin callers of
app.services.inspections; every POST is CSRF-checked; the request boundary commits."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import gettext
from sqlalchemy import select

from app import clock, receipts
from app.enums import Rating
from app.errors import NotFound
from app.extensions import db
from app.inspections import LABELS, BasisKind, InspectionResult, InspectionState
from app.services import inspections as service
from app.workflow import N_
from models import Department, EnforcementOfficer, Enterprise, Inspection, InspectionItem
from views.common import attempt, current_actor, label, local_time
from views.public import RECEIPT_KEY, _csrf_ok

EXPIRED = N_("The page expired; please submit the form again.")


def inspection_label(value) -> str:
    """The translated label of an inspection state, result or a rating."""
    if value in LABELS:
        return gettext(LABELS[value])
    return label(value)


def _no_store(page, status: int = 200):
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _enterprise_by(column, token: str) -> Enterprise:
    found = db.session.scalar(select(Enterprise).where(column == token, Enterprise.active.is_(True)))
    if found is None or not token:
        raise NotFound(N_("This code is not valid."))
    return found


def _list(kind: BasisKind) -> list[InspectionItem]:
    return list(
        db.session.scalars(
            select(InspectionItem)
            .where(InspectionItem.kind == kind, InspectionItem.active.is_(True))
            .order_by(InspectionItem.sort_order, InspectionItem.id)
        )
    )


def _form_data() -> dict:
    form = request.form
    return {
        "officer_ids": form.getlist("officer_ids"),
        "certificate_nos": form.get("certificate_nos", ""),
        "basis_id": form.get("basis_id", ""),
        "basis_note": form.get("basis_note", ""),
        "item_ids": form.getlist("item_ids"),
        "joint": form.get("joint") == "y",
        "partner_unit_ids": form.getlist("partner_unit_ids"),
        "no_disturb_reason": form.get("no_disturb_reason", ""),
    }


class InspectorView(BaseView):
    """The officer's phone pages: my unit's inspections, the scanned enterprise's form, finish."""

    route_base = "/inspect"
    default_view = "index"

    def _officer(self):
        return service.officer_of(db.session, current_actor())

    def _page(self, template: str, status: int = 200, **context):
        page = self.render_template(
            f"inspect/{template}",
            officer=self._officer(),
            local_time=local_time,
            lbl=inspection_label,
            **context,
        )
        return _no_store(page, status)

    def _inspection(self, pk: int) -> Inspection:
        found = db.session.get(Inspection, pk)
        if found is None or not service.may_see(db.session, found, current_actor()):
            raise NotFound(N_("Inspection not found."))
        return found

    @expose("/")
    @has_access
    def index(self):
        actor, officer = current_actor(), self._officer()
        rows = service.unit_inspections(db.session, actor, officer) if officer else []
        finishable = {r.id for r in rows if service.may_finish(db.session, r, actor)}
        return self._page("index.html", rows=rows, finishable=finishable, title=gettext("My inspections"))

    def _scan_page(self, enterprise, data=None, error=None, status=200):
        officer = self._officer()
        colleagues, units = [], []
        if officer is not None:
            colleagues = db.session.scalars(
                select(EnforcementOfficer)
                .where(
                    EnforcementOfficer.department_id == officer.department_id,
                    EnforcementOfficer.active.is_(True),
                    EnforcementOfficer.id != officer.id,
                )
                .order_by(EnforcementOfficer.name, EnforcementOfficer.id)
            ).all()
            units = db.session.scalars(
                select(Department)
                .where(Department.active.is_(True), Department.id != officer.department_id)
                .order_by(Department.code)
            ).all()
        data = data or {}
        return self._page(
            "scan.html",
            status,
            enterprise=enterprise,
            colleagues=colleagues,
            units=units,
            bases=_list(BasisKind.BASIS),
            items=_list(BasisKind.ITEM),
            data=data,
            chosen=lambda key: {str(v) for v in (data.get(key) or [])},
            error=error,
            title=gettext("Register an inspection"),
        )

    @expose("/e/<token>")
    @has_access
    def scan(self, token):
        return self._scan_page(_enterprise_by(Enterprise.token, token))

    @expose("/e/<token>/register", methods=["POST"])
    @has_access
    def register(self, token):
        enterprise = _enterprise_by(Enterprise.token, token)
        data = _form_data()
        if not _csrf_ok():
            return self._scan_page(enterprise, data, gettext(EXPIRED), 400)
        inspection, error = attempt(
            lambda: service.register_inspection(
                db.session, actor=current_actor(), now=clock.utcnow(), enterprise=enterprise, data=data
            )
        )
        if error is not None:
            return self._scan_page(enterprise, data, error.message, error.status)
        flash(gettext("Inspection %(number)s registered.", number=inspection.number), "info")
        return redirect(url_for("InspectorView.show", pk=inspection.id))

    @expose("/<int:pk>/finish", methods=["GET", "POST"])
    @has_access
    def finish(self, pk):
        inspection = self._inspection(pk)
        results = [(r.value, inspection_label(r)) for r in InspectionResult]
        form = {"result": request.form.get("result", ""), "result_note": request.form.get("result_note", "")}
        if request.method == "GET":
            return self._page(
                "finish.html",
                inspection=inspection,
                results=results,
                form=form,
                title=gettext("Finish the inspection"),
            )
        if not _csrf_ok():
            error, status = gettext(EXPIRED), 400
        else:
            _, failure = attempt(
                lambda: service.finish_inspection(
                    db.session, inspection, actor=current_actor(), now=clock.utcnow(), data=form
                )
            )
            if failure is None:
                flash(gettext("The inspection is finished."), "info")
                return redirect(url_for("InspectorView.show", pk=pk))
            error, status = failure.message, failure.status
            inspection = self._inspection(pk)  # reloaded after the rollback
        return self._page(
            "finish.html",
            status,
            inspection=inspection,
            results=results,
            form=form,
            error=error,
            title=gettext("Finish the inspection"),
        )

    @expose("/<int:pk>")
    @has_access
    def show(self, pk):
        inspection = self._inspection(pk)
        return self._page(
            "show.html",
            inspection=inspection,
            can_finish=service.may_finish(db.session, inspection, current_actor()),
            title=inspection.number,
        )


class EnterpriseConfirmView(BaseView):
    """The enterprise's own code (no login): its inspections of the last 90 days, confirm and
    rate each, report a problem (a case; the receipt shows its number and query code)."""

    route_base = "/enterprise"
    default_view = "index"

    def _page(self, template: str, status: int = 200, **context):
        page = self.render_template(
            f"inspect/{template}", local_time=local_time, lbl=inspection_label, **context
        )
        return _no_store(page, status)

    def _own(self, enterprise, inspection_id) -> Inspection:
        found = db.session.get(Inspection, inspection_id)
        if found is None or found.enterprise_id != enterprise.id:
            raise NotFound(N_("Inspection not found."))
        return found

    def _list_page(self, enterprise, status=200, error=None):
        rows = service.recent_for_enterprise(db.session, enterprise, clock.utcnow())
        return self._page(
            "enterprise.html",
            status,
            enterprise=enterprise,
            rows=rows,
            error=error,
            finished=InspectionState.FINISHED,
            ratings=[(r.value, label(r)) for r in Rating],
            title=gettext("Inspections of my enterprise"),
        )

    @expose("/<token>")
    def index(self, token):
        return self._list_page(_enterprise_by(Enterprise.confirm_token, token))

    @expose("/<token>/<int:inspection_id>/confirm", methods=["POST"])
    def confirm(self, token, inspection_id):
        enterprise = _enterprise_by(Enterprise.confirm_token, token)
        inspection = self._own(enterprise, inspection_id)
        if not _csrf_ok():
            return self._list_page(enterprise, 400, gettext(EXPIRED))
        _, error = attempt(
            lambda: service.confirm_inspection(
                db.session,
                inspection,
                now=clock.utcnow(),
                rating=request.form.get("rating"),
                note=request.form.get("note"),
            )
        )
        if error is not None:
            return self._list_page(enterprise, error.status, error.message)
        flash(gettext("Thank you, it has been recorded."), "info")
        return redirect(url_for("EnterpriseConfirmView.index", token=token))

    def _problem_page(self, enterprise, inspection, form, status=200, error=None):
        return self._page(
            "problem.html",
            status,
            enterprise=enterprise,
            inspection=inspection,
            form=form,
            error=error,
            categories=[
                (service.MULTI_UNIT_CATEGORY, gettext("Inspected by several units (多头检查)")),
                (service.REPEATED_CATEGORY, gettext("Inspected repeatedly (重复检查)")),
            ],
            title=gettext("Report a problem with an inspection"),
        )

    @expose("/<token>/<int:inspection_id>/problem", methods=["GET", "POST"])
    def problem(self, token, inspection_id):
        enterprise = _enterprise_by(Enterprise.confirm_token, token)
        inspection = self._own(enterprise, inspection_id)
        now = clock.utcnow()
        fields = ("category", "content", "reporter_name", "reporter_phone")
        form = {name: request.form.get(name, "") for name in fields}
        if request.method == "GET":
            form["category"] = service.suggested_category(db.session, inspection, now)
            form["reporter_name"] = enterprise.contact_name or ""
            return self._problem_page(enterprise, inspection, form)
        if not _csrf_ok():
            return self._problem_page(enterprise, inspection, form, 400, gettext(EXPIRED))
        case, error = attempt(lambda: service.report_problem(db.session, inspection, now=now, data=form))
        if error is not None:
            inspection = self._own(enterprise, inspection_id)
            return self._problem_page(enterprise, inspection, form, error.status, error.message)
        # The receipt page of the public filing shows the number and the query code (PRG).
        session[RECEIPT_KEY] = receipts.seal_receipt(
            current_app.config["SECRET_KEY"], case.number, case.query_code
        )
        return redirect(url_for("PublicReportView.receipt"))
