"""Publication screens: typical cases (mark, edit, approve), the report archive (request,
download, publish) and the public list of published bulletins. Each office has its own
reports: the archive shows those of the reader's scope, the public page every office's."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app import clock
from app.errors import DomainError
from app.extensions import db
from app.publication import PUBLICATION_LABELS, ReportKind
from app.services import reports as report_services
from app.services import typical as typical_services
from app.storage import send_file
from app.workflow import Role
from models import GeneratedReport, TypicalCase
from reports import archive
from views.common import attempt, current_actor, local_time, run_posted
from views.filters import VisibleCaseChildFilter


class ReportsInScopeFilter(BaseFilter):
    """The reports of the reader's jurisdiction and of the ones under it (reports.reports_clause)."""

    name = "reports_in_scope"

    def apply(self, query, value):
        return query.filter(report_services.reports_clause(current_actor()))


def pub_label(value) -> str:
    return gettext(PUBLICATION_LABELS[value]) if value in PUBLICATION_LABELS else str(value or "")


class TypicalCaseView(ModelView):
    datamodel = SQLAInterface(TypicalCase)
    route_base = "/typical"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", VisibleCaseChildFilter, None]]  # the case visibility rule
    base_order = ("id", "desc")
    list_title = _l("Typical cases")
    list_columns = ["case", "kind", "state", "marked_at", "published_month"]
    search_columns = ["kind", "state", "published_month"]
    label_columns = {
        "case": _l("Case"),
        "kind": _l("Typical case list"),
        "state": _l("State"),
        "marked_at": _l("Chosen at"),
        "published_month": _l("Published in"),
    }
    formatters_columns = {"kind": pub_label, "state": pub_label, "marked_at": local_time}

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        typical = self.datamodel.get(pk, self._base_filters)
        if typical is None:
            abort(404)
        return render_typical(self, typical)


def render_typical(view, typical, typed: dict | None = None, status: int = 200):
    """The typical case page: heading, summary, what the detector still finds in them (in what
    was just typed, when a refused edit shows the form again), and the forms the actor may use."""
    from flask import make_response

    from app.publication import FOUND_LABELS

    actor = current_actor()
    typed = typed or {}
    # what was typed, as far as it would be kept (the detector reads it: no unbounded text)
    heading = typed.get("heading", typical_services.public_heading(typical))[
        : typical_services.MAX_HEADING * 2
    ]
    summary = typed.get("summary", typical.summary)[: typical_services.MAX_SUMMARY]
    found = [
        (gettext(FOUND_LABELS[f.kind]), f.text, where, n)
        for where, n, f in typical_services.findings(typical, heading or "", summary or "")
    ]
    page = view.render_template(
        "publication/typical.html",
        typical=typical,
        heading=heading,
        summary=summary,
        found=found,
        label=pub_label,
        may_edit=Role.SUPERVISOR in actor.roles and typical.state in ("draft", "returned"),
        may_decide=Role.LEADER in actor.roles and typical.state == "submitted",
        title=_l("Typical case"),
        appbuilder=view.appbuilder,
    )
    return make_response(page, status)


class TypicalActionView(BaseView):
    route_base = "/typical/act"

    @expose("/mark/<int:case_id>", methods=["POST"])
    @has_access
    def mark(self, case_id):
        return run_posted(
            lambda actor, now: typical_services.mark_typical(
                db.session, case_id, actor=actor, now=now, kind=request.form.get("kind")
            ),
            _l("A redacted draft has been prepared; review it before submitting."),
            url_for("CaseView.show", pk=case_id),
            then=lambda typical: url_for("TypicalCaseView.show", pk=typical.id),
        )

    @expose("/edit/<int:typical_id>", methods=["POST"])
    @has_access
    def edit(self, typical_id):
        """Save the heading and summary (and submit them); a refusal shows the page again with
        what was typed and what the detector found in it."""
        from flask import flash, redirect
        from flask_appbuilder.forms import DynamicForm

        back = url_for("TypicalCaseView.show", pk=typical_id)
        if not DynamicForm().validate_on_submit():
            flash(_l("The form could not be submitted; please try again."), "danger")
            return redirect(back)
        submit = request.form.get("submit") == "1"
        typed = {"heading": request.form.get("heading"), "summary": request.form.get("summary")}
        _, error = attempt(
            lambda: typical_services.edit_summary(
                db.session,
                typical_id,
                actor=current_actor(),
                now=clock.utcnow(),
                summary=typed["summary"],
                heading=typed["heading"],
                submit=submit,
            )
        )
        if error is not None:
            typical = db.session.get(TypicalCase, typical_id)
            if typical is None or error.status == 404:  # not one the reader may see: nothing of it
                abort(404)
            flash(error.message, "danger")
            return render_typical(
                self, typical, {k: v for k, v in typed.items() if v is not None}, error.status
            )
        flash(_l("Submitted to a leader.") if submit else _l("Saved."), "success")
        return redirect(back)

    @expose("/decide/<int:typical_id>", methods=["POST"])
    @has_access
    def decide(self, typical_id):
        return run_posted(
            lambda actor, now: typical_services.decide(
                db.session,
                typical_id,
                actor=actor,
                now=now,
                approve=request.form.get("approve") == "1",
                note=request.form.get("note"),
            ),
            _l("Decision recorded."),
            url_for("TypicalCaseView.show", pk=typical_id),
        )


class ReportArchiveView(ModelView):
    """Generated bulletins and assessment reports: who generated them and when."""

    datamodel = SQLAInterface(GeneratedReport)
    route_base = "/reports"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", ReportsInScopeFilter, None]]
    base_order = ("id", "desc")
    list_title = _l("Bulletins and reports")
    list_columns = [
        "jurisdiction",
        "kind",
        "period_label",
        "issue",
        "state",
        "requested_by_name",
        "requested_at",
        "finished_at",
        "pages",
        "published",
        "download",
        "editing",
    ]
    # Sorted by its stored columns only (the issue, links and office are computed or related).
    order_columns = [c for c in list_columns if c not in ("jurisdiction", "issue", "download", "editing")]
    search_columns = ["jurisdiction", "kind", "period_label", "state", "requested_by_name", "published"]
    label_columns = {
        "issue": _l("Issue"),
        "editing": _l("Texts"),
        "jurisdiction": _l("Issuing office"),
        "kind": _l("Report type"),
        "period_label": _l("Period"),
        "state": _l("State"),
        "requested_by_name": _l("Requested by"),
        "requested_at": _l("Requested at"),
        "finished_at": _l("Finished at"),
        "pages": _l("Pages"),
        "published": _l("Published"),
        "download": _l("Download"),
        "period_start": _l("Period start"),
        "period_end": _l("Period end"),
        "file_name": _l("File name"),
        "error": _l("Error"),
    }
    formatters_columns = {
        "kind": pub_label,
        "requested_at": local_time,
        "finished_at": local_time,
        "state": lambda s: (
            pub_label(s)
            if s in PUBLICATION_LABELS
            else {"queued": gettext("Queued"), "done": gettext("Ready"), "failed": gettext("Failed")}.get(
                s, s
            )
        ),
        "download": lambda d: download_links(*d),
        "editing": lambda e: edit_link(*e),
    }


def download_links(report_id: int, state: str, kind: str):
    from markupsafe import Markup

    if state != "done":
        return ""
    formats = ["pdf"] + (["csv", "xlsx"] if kind == ReportKind.ASSESSMENT else [])
    return Markup(" ").join(
        Markup('<a href="{}">{}</a>').format(
            url_for("ReportActionView.download", report_id=report_id, fmt=fmt), fmt.upper()
        )
        for fmt in formats
    )


def edit_link(report_id: int, kind: str, published: bool, jurisdiction_id, state: str = "done"):
    """A bulletin not yet published of the actor's own office: the edit screen for its
    supervisor's office (or an administrator), the publish button for its leader once its PDF
    is ready (report_services.publish decides; this only offers it)."""
    from flask_wtf.csrf import generate_csrf
    from markupsafe import Markup

    actor = current_actor()
    if kind != ReportKind.BULLETIN or published or jurisdiction_id != actor.jurisdiction_id:
        return ""
    parts = []
    if actor.roles & {Role.SUPERVISOR, Role.ADMIN}:
        parts.append(
            Markup('<a href="{}">{}</a>').format(
                url_for("ReportActionView.edit", report_id=report_id), gettext("Edit")
            )
        )
    if Role.LEADER in actor.roles and state == "done":
        parts.append(
            Markup(
                '<form method="post" action="{}" style="display:inline" class="publish-form">'
                '<input type="hidden" name="csrf_token" value="{}">'
                '<button type="submit" class="btn btn-xs btn-success">{}</button></form>'
            ).format(
                url_for("ReportActionView.publish", report_id=report_id),
                generate_csrf(),
                gettext("Publish"),
            )
        )
    return Markup(" ").join(parts)


class ReportActionView(BaseView):
    route_base = "/reports/act"

    @expose("/request", methods=["GET", "POST"])
    @has_access
    def request_report(self):
        """Generate a bulletin or an assessment report for any period (in a job)."""
        if request.method == "POST":

            def started(report):
                archive.start(db.session, report.id)  # a job; inline when no queue is configured
                return url_for("ReportArchiveView.list")

            return run_posted(
                lambda actor, now: report_services.request_report(
                    db.session,
                    actor=actor,
                    now=now,
                    kind=request.form.get("kind"),
                    period=request.form.get("period"),
                    jurisdiction_id=request.form.get("jurisdiction_id"),
                ),
                _l("The report is being generated; it appears in the archive when ready."),
                url_for("ReportActionView.request_report"),
                then=started,
            )
        return self.render_template(
            "publication/request.html",
            title=_l("Generate a report"),
            kinds=[(k.value, pub_label(k)) for k in ReportKind],
            offices=report_services.office_choices(db.session, current_actor()),
            appbuilder=self.appbuilder,
        )

    @expose("/download/<int:report_id>/<fmt>", methods=["GET"])
    @has_access
    def download(self, report_id, fmt):
        try:  # a report outside the reader's scope is not found (a county, its city's)
            report = report_services.report_for(db.session, report_id, current_actor())
        except DomainError:
            abort(404)
        if report.state != "done" or fmt not in ("pdf", "csv", "xlsx"):
            abort(404)
        path = report_services.report_file(report, fmt)
        if path is None:
            abort(404)
        from app.services import audit

        audit.record(
            db.session,
            "export",
            actor=current_actor(),
            now=clock.utcnow(),
            subject=f"{report.kind}:{report.jurisdiction_id}:{report.period_label}:{fmt}",
        )
        return send_file(path, as_attachment=True, download_name=_download_name(report, fmt))

    @expose("/edit/<int:report_id>", methods=["GET", "POST"])
    @has_access
    def edit(self, report_id):
        """The bulletin's 问题分析, 下一步工作要求, 主送 and 抄送 (drafted from the figures) for the
        supervisor's office to edit before a leader publishes; saving makes the PDF again (a job)."""
        from flask import flash, make_response, redirect
        from flask_appbuilder.forms import DynamicForm

        actor = current_actor()
        try:
            report = report_services.report_for(db.session, report_id, actor)
        except DomainError:
            abort(404)
        if report.kind != ReportKind.BULLETIN:
            abort(404)
        fields = ("analysis", "requirements", "recipients", "copy_to")
        typed, status = {name: getattr(report, name) or "" for name in fields}, 200
        if request.method == "POST":
            if not DynamicForm().validate_on_submit():
                flash(_l("The form could not be submitted; please try again."), "danger")
                return redirect(url_for("ReportActionView.edit", report_id=report_id))
            typed = {name: request.form.get(name, "") for name in fields}
            edited, error = attempt(
                lambda: report_services.edit_bulletin(
                    db.session, report_id, actor=actor, now=clock.utcnow(), **typed
                )
            )
            if error is None:
                archive.start(db.session, edited.id)  # a job; inline when no queue is configured
                flash(_l("Saved; the bulletin is being generated again."), "success")
                return redirect(url_for("ReportArchiveView.list"))
            flash(error.message, "danger")
            status = error.status
            report = db.session.get(GeneratedReport, report_id)
        issuer = report_services.issuer_of(db.session, report)
        page = self.render_template(
            "publication/edit_bulletin.html",
            title=_l("Edit the bulletin"),
            report=report,
            issuer=issuer.authority if issuer is not None else "",
            typed=typed,
            may_edit=report_services.may_edit(actor, report, issuer),
            appbuilder=self.appbuilder,
        )
        return make_response(page, status)

    @expose("/publish/<int:report_id>", methods=["POST"])
    @has_access
    def publish(self, report_id):
        return run_posted(
            lambda actor, now: report_services.publish(db.session, report_id, actor=actor),
            _l("Published."),
            url_for("ReportArchiveView.list"),
        )


def _download_name(report: GeneratedReport, fmt: str) -> str:
    office = report.jurisdiction.code if report.jurisdiction is not None else "root"
    return f"{report.kind}-{office}-{report.period_label}.{fmt}"


class PublicBulletinView(BaseView):
    """The public list of every office's published bulletins, each with the office that
    issued it (no account)."""

    route_base = "/bulletins"
    default_view = "index"

    @expose("/")
    def index(self):
        reports = (
            db.session.query(GeneratedReport)
            .filter_by(published=True, kind=ReportKind.BULLETIN, state="done")
            .order_by(
                GeneratedReport.period_start.desc(), GeneratedReport.jurisdiction_id, GeneratedReport.id
            )
            .all()
        )
        offices = {report.id: report_services.issuer_of(db.session, report).authority for report in reports}
        return self.render_template(
            "publication/public_list.html",
            reports=reports,
            offices=offices,
            title=gettext("Published bulletins"),
        )

    @expose("/<int:report_id>.pdf")
    def download(self, report_id):
        report = db.session.get(GeneratedReport, report_id)
        if report is None or not report.published or report.kind != ReportKind.BULLETIN:
            abort(404)
        path = report_services.report_file(report, "pdf")
        if path is None:
            abort(404)
        return send_file(path, as_attachment=True, download_name=_download_name(report, "pdf"))
