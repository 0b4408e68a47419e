"""Case screens: read-only lists per role, the case page with its timeline, intake, and actions.

Status never changes through a generic edit form: every button posts to CaseActionView, which
calls the one service for that action.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app import clock
from app import deadlines as dl
from app.enums import CaseType, Channel, Urgency
from app.errors import DomainError
from app.extensions import db
from app.security import OwnOrBelowJurisdictionFilter
from app.services import (
    attachments,
    cohandling,
    jurisdictions,
    notifications,
    protection,
    reporting,
    rewards,
    typical,
)
from app.services import cases as svc
from app.services import clocks as clock_services
from app.storage import send_file
from app.uploads import download_name, open_for_staff, staff_content_type
from app.workflow import Action, Role, Status
from models import Case
from views.common import attempt, current_actor, fixed_text, label, local_time, run_posted
from views.filters import ClauseFilter, StatusInFilter, VisibleCaseFilter
from views.forms import ACTION_FIELDS, INTAKE_FIELDS, build_form, enum_select, form_params
from views.paging import BoundedCountInterface, BoundedListWidget


def _deadline_badge(deadline) -> str:
    """Show ``Case.deadline`` with its state (on time, due soon, overdue, met, missed)."""
    due_at, finished_at = deadline
    if due_at is None:
        return ""
    if "due_soon_window" not in g:  # read the setting once per page, not once per row
        g.due_soon_window = svc.due_soon_window(db.session)
    state = dl.deadline_state(due_at, clock.utcnow(), g.due_soon_window, finished_at)
    css = {
        "overdue": "danger",
        "due_soon": "warning",
        "on_time": "success",
        "met": "default",
        "missed": "danger",
    }.get(state, "default")
    return Markup('{} <span class="label label-{}">{}</span>').format(local_time(due_at), css, label(state))


class CaseView(ModelView):
    """Every case the user may see, with its deadline state."""

    route_base = "/cases"
    datamodel = BoundedCountInterface(Case)
    list_widget = BoundedListWidget
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", VisibleCaseFilter, None]]
    base_order = ("id", "desc")
    list_title = _l("All cases")
    show_title = _l("Case")
    list_columns = [
        "number",
        "title",
        "case_type",
        "status",
        "jurisdiction",
        "lead_department",
        "created_at",
        "deadline",
    ]
    search_columns = [
        "number",
        "title",
        "case_type",
        "status",
        "urgency",
        "channel",
        "category",
        "jurisdiction",
        "lead_department",
        "created_at",
        "due_at",
    ]
    order_columns = ["number", "created_at", "due_at", "status"]
    label_columns = {
        "number": _l("Case number"),
        "title": _l("Title"),
        "case_type": _l("Case type"),
        "status": _l("Status"),
        "lead_department": _l("Lead department"),
        "created_at": _l("Filed at"),
        "due_at": _l("Deadline"),
        "deadline": _l("Deadline"),
        "urgency": _l("Urgency"),
        "channel": _l("Channel"),
        "category": _l("Category"),
        "grade": _l("Grade"),
        "proposed_department": _l("Proposed department"),
        "jurisdiction": _l("Jurisdiction"),
    }
    # The jurisdiction filter offers the user's own jurisdiction and those under it.
    search_form_query_rel_fields = {"jurisdiction": [["id", OwnOrBelowJurisdictionFilter, None]]}
    formatters_columns = {
        "case_type": label,
        "status": label,
        "urgency": label,
        "channel": label,
        "grade": label,
        "created_at": local_time,
        "due_at": local_time,
        "deadline": _deadline_badge,
    }
    search_form_extra_fields = {
        "status": enum_select(Status, _l("Status")),
        "case_type": enum_select(CaseType, _l("Case type")),
        "urgency": enum_select(Urgency, _l("Urgency")),
        "channel": enum_select(Channel, _l("Channel")),
    }

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        case = self.datamodel.get(pk, self._base_filters)
        if case is None:
            abort(404)
        self.update_redirect()
        notifications.mark_read(db.session, current_actor().id, case_id=case.id)
        return render_case(self, case)


def _file_refusal(attachment) -> str | None:
    """Why a file has no copy for staff (plain text: the file name in it is escaped)."""
    refused = attachments.refusal(attachment)
    return gettext(refused[0], **refused[1]) if refused else None


# Events that move a case from one jurisdiction's office to another's (data "from" and "to").
MOVES = frozenset({Action.REFER_UP, Action.PULL_UP, Action.SEND_DOWN})


def _jurisdiction_moves(case: Case) -> dict[int, str]:
    """Each cross-level event of the case as "石门市 → 清源省", by event id. The names are
    those recorded with the event, else the jurisdictions' current names."""
    moves = [e for e in case.events if e.action in MOVES and isinstance(e.data, dict)]
    ids = [e.data.get(k) for e in moves for k in ("from", "to") if isinstance(e.data.get(k), int)]
    names = jurisdictions.names(db.session, ids)

    def name(data: dict, key: str) -> str:
        recorded = data.get(f"{key}_name")
        if isinstance(recorded, str) and recorded:
            return recorded
        value = data.get(key)
        return value if isinstance(value, str) else names.get(value, "—")

    return {e.id: f"{name(e.data, 'from')} → {name(e.data, 'to')}" for e in moves}


def render_case(view, case: Case, reporters=None, **extra):
    """The case page: details, reporter panel, actions, departments, files, messages, similar
    and linked cases, timeline."""
    actor = current_actor()
    similar = []
    if Role.CLERK in actor.roles and case.status == Status.SUBMITTED:
        similar = reporting.similar_open_cases(db.session, case, actor)
    return view.render_template(
        "case/show.html",
        case=case,
        actions=svc.available_actions(db.session, case, actor),
        label=label,
        local_time=local_time,
        deadline_badge=_deadline_badge,
        jurisdiction_moves=_jurisdiction_moves(case),
        clocks=clock_services.case_clocks(case),
        fixed_text=fixed_text,
        may_see_identity=protection.can_see_identity(case, actor),
        may_request_identity=protection.may_request_identity(db.session, case, actor),
        identity_request=protection.pending_request(db.session, case, actor),
        identity_grant=protection.active_grant(db.session, case, actor),
        supervisors=(
            protection.supervisors_for(db.session, case)
            if protection.may_assign_supervisor(actor, case)
            else None
        ),
        file_refusal=_file_refusal,
        reporters=reporters,
        may_message=reporting.may_message(case, actor),
        similar=similar,
        may_link=Role.CLERK in actor.roles,
        linked=reporting.linked_cases(db.session, case, actor),
        may_mark_typical=typical.may_mark(case, actor),
        may_propose_reward=rewards.may_propose(case, actor),
        title=_l("Case"),
        appbuilder=view.appbuilder,
        **extra,
    )


class IntakeQueueView(CaseView):
    """Cases waiting for the clerk's decision."""

    route_base = "/cases/intake"
    list_title = _l("Intake queue")
    base_filters = [["id", VisibleCaseFilter, None], ["status", StatusInFilter, [Status.SUBMITTED]]]
    list_columns = ["number", "title", "case_type", "channel", "jurisdiction", "created_at", "accept_due_at"]
    base_order = ("accept_due_at", "asc")  # the acceptance decision that falls due first
    order_columns = [*CaseView.order_columns, "accept_due_at"]
    label_columns = {**CaseView.label_columns, "accept_due_at": _l("Decide on acceptance by")}
    formatters_columns = {
        **CaseView.formatters_columns,
        "accept_due_at": lambda due: _deadline_badge((due, None)),
    }


class DispatchQueueView(CaseView):
    """Accepted and returned cases with the department the rules propose, and the cases whose
    responsibility is disputed (the office names the lead)."""

    route_base = "/cases/dispatch"
    list_title = _l("Dispatch queue")
    base_filters = [
        ["id", VisibleCaseFilter, None],
        ["id", ClauseFilter, lambda actor: cohandling.dispatch_queue_clause()],
    ]
    list_columns = [
        "number",
        "title",
        "category",
        "status",
        "jurisdiction",
        "proposed_department",
        "accepted_at",
        "dispatch_due_at",
    ]
    base_order = ("dispatch_due_at", "asc")  # the dispatch that falls due first
    order_columns = [*CaseView.order_columns, "dispatch_due_at", "accepted_at"]
    label_columns = {
        **CaseView.label_columns,
        "accepted_at": _l("Accepted at"),
        "dispatch_due_at": _l("Dispatch by"),
    }
    formatters_columns = {
        **CaseView.formatters_columns,
        "accepted_at": local_time,
        "dispatch_due_at": lambda due: _deadline_badge((due, None)),
    }


class DepartmentCaseView(CaseView):
    """The handler's view: the cases their own department is handling."""

    route_base = "/cases/department"
    list_title = _l("My department's cases")
    base_filters = [["id", ClauseFilter, svc.department_queue_clause]]  # within the visible
    # Newest first: sorting a busy department's 75,000 cases by deadline took 430-500 ms at 1
    # million cases (bench/lists.py); the deadline column sorts on a click.


class SupervisionQueueView(CaseView):
    """What waits for the supervisor: evaluations, unsatisfied ratings, extension requests."""

    route_base = "/cases/supervision"
    list_title = _l("Awaiting supervision")
    base_filters = [
        ["id", VisibleCaseFilter, None],
        ["id", ClauseFilter, lambda actor: svc.awaiting_supervisor_clause()],
    ]


class OverdueCaseView(CaseView):
    """Open cases past their stored deadline."""

    route_base = "/cases/overdue"
    list_title = _l("Overdue cases")
    base_filters = [
        ["id", VisibleCaseFilter, None],
        ["id", ClauseFilter, lambda actor: svc.overdue_clause(clock.utcnow())],
    ]
    base_order = ("due_at", "asc")


class CaseIntakeView(BaseView):
    """A clerk enters a case taken by phone (12345), at a window or by letter."""

    route_base = "/cases/new"
    default_view = "new"

    @expose("/", methods=["GET", "POST"])
    @has_access
    def new(self):
        form = build_form(INTAKE_FIELDS + ["attachments"])()
        # The region is chosen from the tree; a clerk's own jurisdiction's region to start with.
        own_region = jurisdictions.get(db.session, current_actor().jurisdiction_id).region
        if request.method == "GET":
            form.region.data = own_region
        if request.method == "POST" and form.validate_on_submit():

            def file_it():  # files of a refused filing are removed on its rollback
                files = [
                    (f.filename, f.read()) for f in request.files.getlist("attachments") if f and f.filename
                ]
                data = form_params(form, INTAKE_FIELDS)
                data["region"] = data.get("region") or own_region
                case, _ = reporting.file_case(
                    db.session,
                    actor=current_actor(),
                    now=clock.utcnow(),
                    data=data,
                    files=files,
                )
                return case

            case, error = attempt(file_it)
            if error is not None:
                flash(error.message, "danger")
            else:
                # The receipt is shown once, here, for the clerk to read out or hand over.
                return self.render_template(
                    "case/receipt.html",
                    case=case,
                    code=case.query_code,
                    title=_l("Receipt"),
                    appbuilder=self.appbuilder,
                )
        elif request.method == "POST":
            flash(_l("The form could not be submitted; please try again."), "danger")
        return self.render_template(
            "case/form.html", form=form, title=_l("New case"), case=None, appbuilder=self.appbuilder
        )


def _after_action(case_id: int, actor) -> str:
    """Back to the case, or, when the action took it out of the user's sight (a department
    returned it), to the user's own queue."""
    visible = db.session.query(Case.id).filter(Case.id == case_id, svc.visible_cases_clause(actor)).first()
    if visible:
        return url_for("CaseView.show", pk=case_id)
    sm = current_app.appbuilder.sm
    for view in ("DepartmentCaseView", "CaseView"):
        if sm.has_access("can_list", view):
            return url_for(f"{view}.list")
    return url_for("HomeView.index")


def _posted_case(case_id: int, actor, back: str):
    """The case of a CSRF-checked POST that shows something recorded (an original file, the
    number to call), or the redirect back when the form does not check; unseen: 404."""
    if not DynamicForm().validate_on_submit():
        flash(_l("The form could not be submitted; please try again."), "danger")
        return None, redirect(back)
    try:
        return svc.get_case(db.session, case_id, actor), None
    except DomainError:
        abort(404)


class CaseActionView(BaseView):
    """One page per action: shows its form, calls its service, reports refusals clearly."""

    route_base = "/cases/act"

    @expose("/<int:case_id>/message", methods=["POST"])
    @has_access
    def message(self, case_id: int):
        """Write to the reporter (shown on their tracking page)."""
        return run_posted(
            lambda actor, now: reporting.staff_message(
                db.session, case_id, actor=actor, now=now, body=request.form.get("body")
            ),
            _l("Your message has been sent to the reporter."),
            url_for("CaseView.show", pk=case_id),
        )

    @expose("/<int:case_id>/link", methods=["POST"])
    @has_access
    def link(self, case_id: int):
        """Link this case to another about the same matter."""
        return run_posted(
            lambda actor, now: reporting.link_cases(
                db.session, case_id, actor=actor, now=now, other=request.form.get("other")
            ),
            _l("The cases are linked."),
            url_for("CaseView.show", pk=case_id),
        )

    @expose("/<int:case_id>/file/<int:attachment_id>", methods=["GET"])
    @has_access
    def file(self, case_id: int, attachment_id: int):
        """Download an attachment (the copy without hidden data) of a case the user may see;
        a file still being cleaned, or refused, cannot be opened."""
        try:
            case = svc.get_case(db.session, case_id, current_actor())
        except DomainError:
            abort(404)
        attachment = next((a for a in case.attachments if a.id == attachment_id), None)
        if attachment is None:
            abort(404)
        staff_name = attachments.staff_copy_name(attachment)
        if staff_name is None:
            refused = attachments.refusal(attachment)
            if refused is not None:
                flash(gettext(refused[0], **refused[1]), "danger")
            else:
                flash(_l("This file is still being cleaned of hidden data; try again in a moment."), "info")
            return redirect(url_for("CaseView.show", pk=case_id))
        stored = attachments.stored_file(attachment)
        path = open_for_staff(attachments.upload_store(), staff_name)  # a local path or an S3 stream
        response = send_file(
            path, mimetype=staff_content_type(stored), as_attachment=True, download_name=download_name(stored)
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/<int:case_id>/original/<int:attachment_id>", methods=["POST"])
    @has_access
    @permission_name("identity")  # the roles that may be shown an identity; the case decides
    def original(self, case_id: int, attachment_id: int):
        """Download a file's untouched original (evidence: it may name the reporter) — only
        for those entitled to the reporter's identity, each opening recorded (POST: never
        cached, never prefetched, CSRF-checked)."""
        actor = current_actor()
        back = url_for("CaseView.show", pk=case_id)
        case, refused = _posted_case(case_id, actor, back)
        if refused is not None:
            return refused
        opened, error = attempt(
            lambda: attachments.open_original_file(
                db.session, case, attachment_id, actor=actor, now=clock.utcnow()
            )
        )
        if error is not None:
            flash(error.message, "danger")
            return redirect(back)
        path, attachment = opened
        response = send_file(
            path,
            mimetype="application/octet-stream",
            as_attachment=True,
            download_name=download_name(attachments.stored_file(attachment)),
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/<int:case_id>/identity", methods=["POST"])
    @has_access
    def identity(self, case_id: int):
        """Show who filed the case to an entitled user, recording the look (POST: never cached,
        never prefetched, CSRF-checked)."""
        actor = current_actor()
        if not DynamicForm().validate_on_submit():
            flash(_l("The form could not be submitted; please try again."), "danger")
            return redirect(url_for("CaseView.show", pk=case_id))
        g.back = url_for("CaseView.show", pk=case_id)
        case = svc.get_case(db.session, case_id, actor)
        reporters = protection.reveal_identity(db.session, case, actor=actor, now=clock.utcnow())
        return render_case(self, case, reporters=reporters)

    @expose("/<int:case_id>/identity/request", methods=["POST"])
    @has_access
    def request_identity(self, case_id: int):
        """Ask the identity custodian to see who filed the case, with a reason."""
        return run_posted(
            lambda actor, now: protection.request_identity(
                db.session, case_id, actor=actor, now=now, reason=request.form.get("reason")
            ),
            _l("Your request has been sent to the identity custodian."),
            url_for("CaseView.show", pk=case_id),
        )

    @expose("/<int:case_id>/supervisor", methods=["POST"])
    @has_access
    def assign_supervisor(self, case_id: int):
        """Name the supervisor who investigates the case (the dispatcher or the custodian)."""
        return run_posted(
            lambda actor, now: protection.assign_supervisor(
                db.session, case_id, actor=actor, now=now, supervisor_id=request.form.get("supervisor_id")
            ),
            _l("The case's supervisor has been named."),
            url_for("CaseView.show", pk=case_id),
        )

    @expose("/<int:case_id>/revisit_number", methods=["POST"])
    @has_access
    @permission_name("act")  # whoever may record the call; the open call decides
    def revisit_number(self, case_id: int):
        """Show the revisit caller the number to dial (POST: never cached, never prefetched,
        CSRF-checked; each look recorded)."""
        actor = current_actor()
        back = url_for("CaseActionView.act", case_id=case_id, action=Action.RECORD_REVISIT.value)
        case, refused = _posted_case(case_id, actor, back)
        if refused is not None:
            return refused
        numbers, error = attempt(
            lambda: protection.revisit_numbers(db.session, case, actor=actor, now=clock.utcnow())
        )
        if error is not None:
            flash(error.message, "danger")
            return redirect(back)
        fields = ACTION_FIELDS[Action.RECORD_REVISIT]
        return self.render_template(
            "case/form.html",
            form=build_form(fields)(),
            case=case,
            extension=None,
            revisit_numbers=numbers,
            form_action=back,  # the call is recorded by the action, not by this page
            local_time=local_time,
            title=label(Action.RECORD_REVISIT),
            appbuilder=self.appbuilder,
        )

    @expose("/<int:case_id>/<action>", methods=["GET", "POST"])
    @has_access
    def act(self, case_id: int, action: str):
        if action not in set(Action):
            abort(404)
        action = Action(action)
        actor = current_actor()
        try:
            case = svc.get_case(db.session, case_id, actor)
        except DomainError:
            abort(404)
        fields = ACTION_FIELDS[action]
        form = build_form(fields)()
        if request.method == "GET" and action == Action.DISPATCH and case.proposed_department_id:
            form.lead_department_id.data = str(case.proposed_department_id)
        if request.method == "GET" and action == Action.MERGE:
            form.into_case.data = request.args.get("into", "")
        if request.method == "GET" and action == Action.CLASSIFY:
            form.case_type.data, form.urgency.data = case.case_type, case.urgency
            form.category_id.data = str(case.category_id or "")
            form.grade.data = case.grade or ""
        if request.method == "POST":
            if not form.validate_on_submit():
                flash(_l("The form could not be submitted; please try again."), "danger")
            else:
                _, error = attempt(
                    lambda: svc.perform(
                        db.session,
                        case_id,
                        action,
                        actor=actor,
                        now=clock.utcnow(),
                        **form_params(form, fields),
                    )
                )
                if error is not None:
                    flash(error.message, "danger")
                else:
                    flash(_l("Done: %(action)s.", action=label(action)), "success")
                    return redirect(_after_action(case_id, actor))
        # An extension decision shows what is decided: the days asked, the reason, the date.
        pending = (
            case.pending_extension if action in (Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION) else None
        )
        extension = (
            None
            if pending is None
            else {
                "days": pending.days,
                "reason": pending.reason,
                "due_at": case.due_at,
                "new_due_at": svc.extended_due(db.session, case),
            }
        )
        return self.render_template(
            "case/form.html",
            form=form,
            case=case,
            extension=extension,
            may_call_back=action == Action.RECORD_REVISIT and protection.may_call_back(case, actor),
            local_time=local_time,
            title=label(action),
            appbuilder=self.appbuilder,
        )
