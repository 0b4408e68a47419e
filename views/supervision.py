"""Supervision screens: notices (acknowledge, answer, close, PDF), interview notices, the outbox
viewer, the inbox, revisit tasks and the queue monitor."""

from __future__ import annotations

from urllib.parse import quote

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app import clock
from app.enums import Rating, RevisitMethod
from app.errors import DomainError
from app.extensions import db
from app.services import notices as notice_services
from app.services import notifications as notification_services
from app.supervision import NOTICE_LABELS
from app.workflow import Role
from models import InboxMessage, Notice, Notification, RevisitTask
from views.common import attempt, current_actor, label, local_time, run_posted
from views.filters import NotAboutOwnDepartmentFilter, VisibleCaseChildFilter, VisibleCaseFilter


def notice_label(value) -> str:
    return gettext(NOTICE_LABELS[value]) if value in NOTICE_LABELS else str(value or "")


class MyNoticesFilter(BaseFilter):
    """An office sees the notices issued or addressed within its scope; a department sees the
    ones addressed to it (notices.visible_notices_clause)."""

    name = "my_notices"

    def apply(self, query, value):
        return query.filter(notice_services.visible_notices_clause(current_actor()))


class OwnInboxFilter(BaseFilter):
    name = "own_inbox"

    def apply(self, query, value):
        return query.filter(InboxMessage.user_id == current_actor().id)


class NoticeView(ModelView):
    datamodel = SQLAInterface(Notice)
    route_base = "/notices"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", MyNoticesFilter, None]]
    base_order = ("id", "desc")
    list_title = _l("Supervision notices")
    list_columns = [
        "number",
        "jurisdiction",
        "kind",
        "cause",
        "department",
        "issued_on",
        "reply_due_at",
        "state",
    ]
    search_columns = ["number", "department", "issued_on"]
    label_columns = {
        "number": _l("Notice number"),
        "jurisdiction": _l("Issued by"),
        "kind": _l("Kind"),
        "cause": _l("Cause"),
        "department": _l("Department"),
        "issued_on": _l("Issued on"),
        "reply_due_at": _l("Answer by"),
        "state": _l("State"),
    }
    formatters_columns = {
        "kind": notice_label,
        "cause": notice_label,
        "state": notice_label,
        "reply_due_at": local_time,
    }

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        notice = self.datamodel.get(pk, self._base_filters)
        if notice is None:
            abort(404)
        actor = current_actor()
        return self.render_template(
            "supervision/notice.html",
            notice=notice,
            cases=notice_services.named_cases(db.session, notice, actor),
            label=notice_label,
            local_time=local_time,
            may_answer=Role.HANDLER in actor.roles and notice.department_id == actor.department_id,
            may_close=Role.SUPERVISOR in actor.roles
            and notice_services.is_issued_in_scope(db.session, notice, actor),
            issuer=notice_services.issuer_of(db.session, notice).authority,
            document=notice.document,
            title=notice.number,
            appbuilder=self.appbuilder,
        )


def attachment_header(filename: str, fallback: str) -> str:
    """A Content-Disposition naming the file in Chinese (RFC 5987/6266: ``filename*``), with
    an ASCII name for the clients that read only ``filename``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class NoticeActionView(BaseView):
    route_base = "/notices/act"

    def _do(self, notice_id, do, message):
        return run_posted(do, message, url_for("NoticeView.show", pk=notice_id))

    @expose("/<int:notice_id>/acknowledge", methods=["POST"])
    @has_access
    def acknowledge(self, notice_id):
        return self._do(
            notice_id,
            lambda actor, now: notice_services.acknowledge_notice(
                db.session, notice_id, actor=actor, now=now
            ),
            _l("Acknowledged."),
        )

    @expose("/<int:notice_id>/answer", methods=["POST"])
    @has_access
    def answer(self, notice_id):
        return self._do(
            notice_id,
            lambda actor, now: notice_services.answer_notice(
                db.session, notice_id, actor=actor, now=now, answer=request.form.get("answer")
            ),
            _l("The answer has been sent to the supervisor's office."),
        )

    @expose("/<int:notice_id>/close", methods=["POST"])
    @has_access
    def close(self, notice_id):
        return self._do(
            notice_id,
            lambda actor, now: notice_services.close_notice(
                db.session, notice_id, actor=actor, now=now, note=request.form.get("note")
            ),
            _l("The notice is closed."),
        )

    @expose("/<int:notice_id>/pdf", methods=["GET"])
    @has_access
    def pdf(self, notice_id):
        """The notice as issued: the stored PDF, checked against its SHA-256, the same bytes
        for every reader and interface language (reports/notice_files.py)."""
        from reports.notice_files import NoticeFileError, issued_pdf

        actor = current_actor()
        try:
            notice = notice_services.notice_for(db.session, notice_id, actor)
        except DomainError:
            abort(404)
        try:
            document = issued_pdf(db.session, notice)
        except NoticeFileError:
            response = make_response(
                render_template(
                    "errors/error.html",
                    status=500,
                    heading=gettext("The notice cannot be served"),
                    message=gettext(
                        "The PDF of notice %(number)s cannot be served as issued: its stored file "
                        "is missing, does not match the one issued, or cannot be written. The "
                        "administrators have been told.",
                        number=notice.number,
                    ),
                    title=gettext("The notice cannot be served"),
                    back=url_for("NoticeView.show", pk=notice.id),
                ),
                500,
            )
            response.headers["Cache-Control"] = "no-store"
            return response
        response = make_response(document)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = attachment_header(
            f"{notice.number}.pdf", f"notice-{notice.id}.pdf"
        )
        return response

    @expose("/interview", methods=["GET", "POST"])
    @has_access
    def interview(self):
        """List the departments that qualify for an interview and issue the notice."""
        if request.method == "POST":
            if not DynamicForm().validate_on_submit():
                flash(_l("The form could not be submitted; please try again."), "danger")
            else:
                notice, error = attempt(
                    lambda: notice_services.issue_interview(
                        db.session,
                        actor=current_actor(),
                        now=clock.utcnow(),
                        department_id=request.form.get("department_id"),
                        case_ids=request.form.getlist("case_ids"),
                        details=request.form.get("details"),
                        meeting_at=request.form.get("meeting_at"),
                        place=request.form.get("meeting_place"),
                        attendees=request.form.get("attendees"),
                        materials=request.form.get("materials"),
                    )
                )
                if error is None:
                    return redirect(url_for("NoticeView.show", pk=notice.id))
                flash(error.message, "danger")
        return self.render_template(
            "supervision/interview.html",
            title=_l("Interview notice"),
            candidates=notice_services.interview_candidates(db.session, current_actor()),
            departments=list(notice_services.interview_departments(db.session, current_actor()).values()),
            form=request.form if request.method == "POST" else {},
            chosen=request.form.getlist("case_ids") if request.method == "POST" else [],
            appbuilder=self.appbuilder,
        )


# What the outbox shows for its channels, templates and states (stored as keys).
OUTBOX_LABELS = {
    "email": _l("E-mail"),
    "sms": _l("Text message"),
    "inbox": _l("Inbox"),
    "callback": _l("Callback"),
    "case_callback": _l("Update for a connected system"),
    "pending": _l("Pending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "held": _l("Held (no gateway)"),
    "case_accepted": _l("Case accepted"),
    "case_dispatched": _l("Case sent to the department"),
    "case_replied": _l("Case answered"),
    "case_closed": _l("Case closed"),
    "new_case": _l("New case for the department"),
    "due_soon": _l("Case due soon"),
    "overdue": _l("Case overdue"),
    "overdue_notice": _l("Case overdue, reminder letter issued"),
    "not_signed": _l("Case not signed for"),
    "due_soon_digest": _l("Cases due soon (e-mail digest)"),
    "overdue_digest": _l("Cases overdue (e-mail digest)"),
    "not_accepted": _l("Case not decided in time"),
    "notice_issued": _l("Notice issued"),
    "escalated": _l("Case escalated"),
    "revisit": _l("Revisit call"),
    "extension_requested": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_refused": _l("Extension refused"),
    "case_extended": _l("Case extended (to the reporter)"),
    "case_returned": _l("Case returned as misrouted"),
    "rehandle": _l("Case to be handled again"),
    "case_rehandled": _l("Case handled again (to the reporter)"),
    "escalated_to": _l("Case escalated to the department"),
    "case_escalated": _l("Case escalated (to the reporter)"),
    "identity_requested": _l("Request to see a reporter"),
    "identity_request_approved": _l("Request to see a reporter approved"),
    "identity_request_refused": _l("Request to see a reporter refused"),
    "reward_approved": _l("Reward approved (to the reporter)"),
    "reward_unpaid": _l("Reward not paid in time"),
    "case_verified": _l("Initial verification result (to the reporter)"),
    "rectification_reported": _l("Rectification reported done"),
    "rectification_sent_back": _l("Rectification sent back"),
    "rectification_accepted": _l("Rectification accepted on re-check"),
    "case_rectified": _l("Rectification completed (to the reporter)"),
    "case_replied_by_office": _l("Case answered by the office (to the reporter)"),
    "assignment_letter": _l("Assignment letter issued"),
    "first_response_late": _l("First response late"),
    "not_dispatched": _l("Case not dispatched in time"),
    "not_verified": _l("Initial verification result late"),
    "rectification_overdue": _l("Rectification overdue"),
    "case_paused": _l("Clock paused (to the reporter)"),
    "clock_resumed_on_material": _l("Clock resumed on the reporter's material"),
    "part_returned": _l("Co-handling part returned"),
    "part_answered": _l("Co-handling part answered"),
    "dispute_raised": _l("Dispute over responsibility raised"),
    "dispute_decided": _l("Dispute over responsibility decided"),
    "reply_refused": _l("Reply refused by the office"),
    "case_reply_withdrawn": _l("Reply refused, handled further (to the reporter)"),
    "reopened_by_revisit": _l("Case re-opened by a revisit call"),
    "case_referred_up": _l("Case referred up to the higher office"),
    "case_pulled_up": _l("Case taken over from a lower office"),
    "case_taken_over": _l("Case taken over by the higher office"),
    "case_sent_down": _l("Case sent down to a lower office"),
    "case_withdrawn": _l("Case withdrawn from the department"),
    "case_office_changed": _l("Handling office changed (to the reporter)"),
}


class OutboxView(ModelView):
    """What the platform sends (and, in the demo, would send) — no reporter identity shown."""

    datamodel = SQLAInterface(Notification)
    route_base = "/outbox"
    base_permissions = ["can_list", "can_show"]
    base_order = ("id", "desc")
    list_title = _l("Outbox")
    list_columns = ["created_at", "channel", "template", "subject", "status", "attempts", "sent_at"]
    show_columns = [
        "created_at",
        "channel",
        "template",
        "subject",
        "body",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    ]
    search_columns = ["channel", "template", "status"]
    label_columns = {
        "created_at": _l("Created at"),
        "channel": _l("Channel"),
        "template": _l("Message"),
        "subject": _l("Subject"),
        "body": _l("Text"),
        "status": _l("State"),
        "attempts": _l("Attempts"),
        "sent_at": _l("Sent at"),
        "last_error": _l("Last error"),
        "key": _l("Idempotency key"),
    }
    formatters_columns = {
        "created_at": local_time,
        "sent_at": local_time,
        **{c: (lambda v: str(OUTBOX_LABELS.get(v, v))) for c in ("channel", "template", "status")},
    }


def _case_link(case) -> Markup | str:
    """An inbox message's case, as a link to its page."""
    if case is None:
        return "—"
    return Markup('<a href="{}">{}</a>').format(url_for("CaseView.show", pk=case.id), case)


def _read_mark(read: bool) -> Markup:
    if read:
        return Markup('<span class="text-muted">{}</span>').format(gettext("Read"))
    return Markup('<span class="label label-primary">{}</span>').format(gettext("Unread"))


class InboxView(ModelView):
    """A user's own messages: each links to its case and says whether it was read (opening
    the message or its case marks it read)."""

    datamodel = SQLAInterface(InboxMessage)
    route_base = "/inbox"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", OwnInboxFilter, None], ["id", NotAboutOwnDepartmentFilter, None]]
    # The search form's case choice lists only the cases the user may see.
    search_form_query_rel_fields = {"case": [["id", VisibleCaseFilter, None]]}
    base_order = ("id", "desc")
    list_title = _l("My inbox")
    list_columns = ["read", "created_at", "subject", "case"]
    show_columns = ["created_at", "subject", "body", "case"]
    label_columns = {
        "created_at": _l("Received at"),
        "subject": _l("Subject"),
        "body": _l("Text"),
        "read": _l("State"),
        "case": _l("Case"),
    }
    formatters_columns = {"created_at": local_time, "case": _case_link, "read": _read_mark}

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        message = self.datamodel.get(pk, self._base_filters)
        if message is None:
            abort(404)
        notification_services.mark_read(db.session, current_actor().id, message_id=message.id)
        return self.render_template(
            self.show_template,
            pk=pk,
            title=self.show_title,
            widgets=self._show(pk),
            related_views=self._related_views,
        )


class RevisitQueueFilter(BaseFilter):
    """The revisit queue: open calls first, the one due soonest on top; ``?state=open`` or
    ``?state=done`` keeps only those."""

    name = "revisit_queue"

    def apply(self, query, value):
        state = request.args.get("state")
        if state == "open":
            query = query.filter(RevisitTask.done_at.is_(None))
        elif state == "done":
            query = query.filter(RevisitTask.done_at.isnot(None))
        return query.order_by(RevisitTask.done_at.isnot(None), RevisitTask.due_at, RevisitTask.id)


REVISIT_OUTCOMES = {"unreachable": _l("Unreachable: given up after the last attempt")}


def revisit_outcome(outcome) -> str:
    """How a call ended: the rating and how the call was made, or that it was given up."""
    if not outcome:
        return "—"
    if outcome in REVISIT_OUTCOMES:
        return str(REVISIT_OUTCOMES[outcome])
    rating, _, method = str(outcome).partition(":")  # "satisfied:phone" (the rating, then how)
    parts = [label(Rating(rating)) if rating in set(Rating) else rating]
    if method:
        parts.append(label(RevisitMethod(method)) if method in set(RevisitMethod) else method)
    return " · ".join(parts)


def _record_call(task_id) -> Markup | str:
    """The link to record a call on an open task (the row is in the session already)."""
    task = db.session.get(RevisitTask, task_id)
    if task is None or task.done_at is not None:
        return ""
    return Markup('<a class="btn btn-xs btn-primary" href="{}">{}</a>').format(
        url_for("CaseActionView.act", case_id=task.case_id, action="record_revisit"), gettext("Record call")
    )


class RevisitTaskView(ModelView):
    """The revisit calls worked by supervisors and clerks: unrated replies and quality samples
    (002), open ones first by the time they are due."""

    datamodel = SQLAInterface(RevisitTask)
    route_base = "/revisits"
    base_permissions = ["can_list", "can_show"]
    # the case visibility rule, then the queue's order and its open/done filter
    base_filters = [["id", VisibleCaseChildFilter, None], ["id", RevisitQueueFilter, None]]
    search_form_query_rel_fields = {"case": [["id", VisibleCaseFilter, None]]}
    base_order = None  # open first, by due time (RevisitQueueFilter)
    list_template = "supervision/revisits.html"
    list_title = _l("Revisit calls")
    list_columns = ["case", "reason", "due_at", "attempts", "last_attempt_at", "outcome", "id"]
    order_columns = ["due_at", "attempts", "last_attempt_at"]
    show_columns = [
        "case",
        "reason",
        "created_at",
        "due_at",
        "attempts",
        "last_attempt_at",
        "reached",
        "notes",
        "outcome",
        "done_at",
    ]
    # Not the case: its choice would list every case there is.
    search_columns = ["reason", "due_at", "last_attempt_at", "done_at"]
    label_columns = {
        "case": _l("Case"),
        "reason": _l("Reason"),
        "created_at": _l("Created at"),
        "due_at": _l("Call by"),
        "attempts": _l("Call attempts"),
        "last_attempt_at": _l("Last attempt"),
        "reached": _l("Reporter reached"),
        "notes": _l("Call notes"),
        "done_at": _l("Done at"),
        "outcome": _l("Outcome"),
        "id": _l("Call"),
    }
    formatters_columns = {
        "reason": lambda r: str(_l("Unrated reply") if r.startswith("unrated") else _l("Quality sample")),
        "created_at": local_time,
        "due_at": local_time,
        "last_attempt_at": local_time,
        "done_at": local_time,
        "outcome": revisit_outcome,
        "id": _record_call,
    }


class QueueMonitorView(BaseView):
    """Queues, workers and failed jobs of RQ (administrators)."""

    route_base = "/queues"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        from redis import Redis
        from rq import Queue, Worker
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

        rows, workers, error = [], [], None
        try:
            connection = Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2)
            for queue in Queue.all(connection=connection) or [Queue("default", connection=connection)]:
                failed = FailedJobRegistry(queue=queue)
                rows.append(
                    {
                        "name": queue.name,
                        "queued": queue.count,
                        "started": StartedJobRegistry(queue=queue).count,
                        "scheduled": ScheduledJobRegistry(queue=queue).count,
                        "failed": failed.count,
                        "failures": [queue.fetch_job(j) for j in failed.get_job_ids(0, 9)],
                    }
                )
            workers = Worker.all(connection=connection)
        except Exception as exc:  # noqa: BLE001 - show the state, not a 500
            error = str(exc)
        return self.render_template(
            "supervision/queues.html",
            title=_l("Queues and jobs"),
            rows=rows,
            workers=workers,
            error=error,
            appbuilder=self.appbuilder,
        )
