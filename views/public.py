"""Public pages (no account): file a case, receive the receipt, follow the case.

The query code travels only in POST bodies and on the receipt page; it is never put in a URL or
a log. Between the filing and its receipt page (Post/Redirect/Get) it rides in the session
cookie sealed with a key of its own (app.receipts: encrypted, unreadable to the browser), and
that page shows it only until the reporter confirms it, for at most RECEIPT_SECONDS, and only
while the case exists; confirming, leaving the tracking page or logging out forgets it.
Filing and lookups are rate-limited; forms carry CSRF tokens.
"""

from __future__ import annotations

import hashlib
import re

from flask import current_app, flash, make_response, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import user_logged_out
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from wtforms import BooleanField, HiddenField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.validators import ValidationError as CsrfError

from app import challenge, clock, receipts
from app.enums import CaseType, Rating
from app.errors import DomainError, Invalid
from app.extensions import db
from app.services import reporting
from app.transaction import unit_of_work
from app.workflow import N_, OPEN_STATUSES
from models import Category, Department, ServiceWindow
from views.common import attempt, fixed_text, label, local_time, reporter_status
from views.forms import LazySelectField, StrictSelectField, _choices

SESSION_KEY = "tracked_reporter"
RECEIPT_KEY = "receipt"  # the sealed receipt shown after filing (app.receipts)
RECEIPT_SECONDS = 900  # long enough to write the code down, short on a shared computer
NUMBER_SHAPE = re.compile(r"[A-Z0-9]{1,20}")  # a case number as the tracking link may carry it


def _categories_grouped():
    rows = db.session.query(Category).filter(Category.active.is_(True)).order_by(Category.code)
    return [("", "—")] + [(str(c.id), str(c)) for c in rows if c.parent_id is not None]


def _public_departments():
    rows = db.session.query(Department).filter(Department.active.is_(True)).order_by(Department.code)
    return [("", gettext("Not sure"))] + [(str(d.id), d.name) for d in rows]


def _regions():
    """The region tree (views/jurisdictions.py): the case lands in the jurisdiction of the
    region chosen."""
    from views.jurisdictions import region_choices

    return region_choices()


class PublicReportForm(FlaskForm):
    case_type = LazySelectField(_l("Case type"), choices_factory=_choices(CaseType))
    category_id = LazySelectField(_l("Category"), choices_factory=_categories_grouped)
    title = StringField(_l("Title"), validators=[Optional()])
    content = TextAreaField(_l("What happened"), validators=[Optional()])
    region = StrictSelectField(_l("Region"), choices_factory=_regions)
    location = StringField(_l("Window or office"), validators=[Optional()])
    concerned_department_id = LazySelectField(_l("Department concerned"), choices_factory=_public_departments)
    concerned_official = StringField(_l("Official concerned"), validators=[Optional()])
    attachments = MultipleFileField(_l("Attachments"))
    anonymous = BooleanField(_l("File anonymously"))
    reporter_name = StringField(_l("Reporter name"), validators=[Optional()])
    reporter_phone = StringField(_l("Reporter phone"), validators=[Optional()])
    reporter_company = StringField(_l("Company"), validators=[Optional()])
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional()])
    confidential = BooleanField(_l("Keep my identity from the handling department"))
    window_token = HiddenField()
    challenge_token = HiddenField()
    challenge_answer = StringField(_l("Answer"), validators=[Optional()])


FORM_FIELDS = [
    "case_type",
    "category_id",
    "title",
    "content",
    "region",
    "location",
    "concerned_department_id",
    "concerned_official",
    "anonymous",
    "reporter_name",
    "reporter_phone",
    "reporter_company",
    "credit_code",
    "confidential",
    "window_token",
]


def _uploaded_files(field_name: str = "attachments") -> list[tuple[str, bytes]]:
    return [(f.filename, f.read()) for f in request.files.getlist(field_name) if f and f.filename]


def _reporter_files(case, reporter) -> list[dict]:
    """The reporter's own files and whether staff can open them yet (a refused one says why,
    so that the reporter can send it again in another form)."""
    from app.services import attachments

    rows = []
    for attachment in case.attachments:
        if attachment.reporter_id != reporter.id:
            continue
        refused = attachments.refusal(attachment)
        note = gettext(refused[0], **refused[1]) if refused else ""
        rows.append({"name": attachment.original_name, "state": attachment.clean_state, "note": note})
    return rows


def _client_digest() -> str:
    """Identify a client for lookup limits without storing its address."""
    secret = current_app.config["QUERY_CODE_KEY"]
    return hashlib.sha256(f"{secret}:{request.remote_addr}".encode()).hexdigest()


def _csrf_ok() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
        return True
    except CsrfError:
        return False


@user_logged_out.connect
def _forget_receipt_on_logout(sender, user=None, **extra) -> None:
    """A shared computer: logging out forgets a receipt not yet confirmed and a tracked case."""
    session.pop(RECEIPT_KEY, None)
    session.pop(SESSION_KEY, None)


class PublicReportView(BaseView):
    """The public filing page (also opened by the QR code of a service window)."""

    route_base = "/report"
    default_view = "form"

    def _render_form(self, form, window, status=200):
        question, token = challenge.new_challenge(current_app.config["SECRET_KEY"])
        form.challenge_token.data = token
        form.challenge_answer.data = ""
        page = self.render_template(
            "public/report.html",
            form=form,
            window=window,
            question=question,
            title=gettext("File a complaint or report"),
            max_files=current_app.config["UPLOAD_MAX_FILES"],
            max_mb=current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024),
        )
        return make_response(page, status)

    @expose("/", methods=["GET", "POST"])
    def form(self):
        form = PublicReportForm()
        token = request.values.get("w") or form.window_token.data
        window = None
        if token:
            window = db.session.query(ServiceWindow).filter_by(token=token, active=True).first()
            form.window_token.data = token if window else ""
        if window and window.region and window.region not in dict(form.region.choices):
            form.region.choices.append((window.region, window.region))  # the window's own region
        if request.method == "GET":
            if window:
                form.region.data = window.region
            return self._render_form(form, window)
        if not form.validate_on_submit():
            if form.region.errors and "csrf_token" not in form.errors:
                flash(gettext("Please correct the marked field."), "danger")
            else:
                flash(gettext("The page expired; please submit the form again."), "danger")
            return self._render_form(form, window, 400)
        now = clock.utcnow()

        def file_it():  # files of a refused filing are removed on its rollback
            challenge_id = challenge.check_answer(
                current_app.config["SECRET_KEY"], form.challenge_token.data, form.challenge_answer.data
            )
            reporting.use_challenge(db.session, challenge_id, now)
            data = {name: getattr(form, name).data for name in FORM_FIELDS}
            case, _ = reporting.file_case(db.session, now=now, data=data, files=_uploaded_files())
            return case

        case, error = attempt(file_it)
        if error is not None:
            if isinstance(error, Invalid) and "check question" in error.msgid:
                form.challenge_answer.errors = [error.message]
            else:
                flash(error.message, "danger")
            return self._render_form(form, window, error.status)
        # Post/Redirect/Get: a reload shows the receipt again instead of filing twice.
        session[RECEIPT_KEY] = receipts.seal_receipt(
            current_app.config["SECRET_KEY"], case.number, case.query_code
        )
        return redirect(url_for("PublicReportView.receipt"))

    def _sealed_receipt(self):
        """(number, code) of the receipt this browser may still see, else None: sealed here
        less than RECEIPT_SECONDS ago, the case exists, and the receipt is not yet confirmed."""
        opened = receipts.open_receipt(
            current_app.config["SECRET_KEY"], session.get(RECEIPT_KEY), RECEIPT_SECONDS
        )
        reporter = reporting.find_reporter(db.session, *opened) if opened else None
        if reporter is None or reporter.receipt_confirmed_at is not None:
            session.pop(RECEIPT_KEY, None)
            return None
        return opened

    @expose("/receipt", methods=["GET"])
    def receipt(self, error: str | None = None):
        """The receipt, shown after the filing's redirect until the reporter confirms it."""
        opened = self._sealed_receipt()
        if opened is None:
            return redirect(url_for("PublicTrackView.form"))
        number, code = opened
        response = make_response(
            self.render_template(
                "public/receipt.html", number=number, code=code, error=error, title=gettext("Receipt")
            ),
            422 if error else 200,
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/confirm", methods=["POST"])
    def confirm(self):
        number = request.form.get("number", "")
        if not _csrf_ok():
            flash(gettext("The page expired; please submit the form again."), "danger")
            return redirect(url_for("PublicReportView.receipt"))
        _, error = attempt(
            lambda: reporting.confirm_receipt(
                db.session, number, request.form.get("code", ""), now=clock.utcnow()
            )
        )
        if error is not None:  # the receipt stays on the page: the code is never lost
            if self._sealed_receipt():
                return self.receipt(error=error.message)
            flash(error.message, "danger")
            return self.render_template("public/track_form.html", title=gettext("Follow my case")), 422
        session.pop(RECEIPT_KEY, None)
        return self.render_template("public/confirmed.html", number=number, title=gettext("Receipt saved"))

    @expose("/receipt.pdf", methods=["POST"])
    def receipt_pdf(self):
        from reports.receipt import receipt_data, render_receipt_pdf

        if not _csrf_ok():
            return make_response(gettext("The page expired; please submit the form again."), 400)
        reporter = reporting.find_reporter(db.session, request.form.get("number"), request.form.get("code"))
        if reporter is None:
            return make_response(gettext("The case number or query code is not correct."), 404)
        tracking_page = current_app.config["PUBLIC_BASE_URL"] + url_for("PublicTrackView.form")
        pdf = render_receipt_pdf(
            receipt_data(reporter, request.form["code"], now=clock.utcnow(), tracking_page=tracking_page)
        )
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = (
            f'attachment; filename="receipt-{reporter.receipt_number}.pdf"'
        )
        response.headers["Cache-Control"] = "no-store"
        return response


class PublicTrackView(BaseView):
    """Follow a case with its number and query code; talk to the staff; rate the result."""

    route_base = "/track"
    default_view = "form"

    @expose("/", methods=["GET", "POST"])
    def form(self):
        title = gettext("Follow my case")
        if request.method == "GET":
            # The receipt's QR code opens this page with the case number (never the query code).
            number = request.args.get("number", "").strip().upper()
            number = number if NUMBER_SHAPE.fullmatch(number) else ""
            return self.render_template("public/track_form.html", title=title, number=number)
        if not _csrf_ok():
            flash(gettext("The page expired; please submit the form again."), "danger")
            return self.render_template("public/track_form.html", title=title), 400
        # The failed attempt is recorded in its own unit, so a refusal keeps it.
        try:
            with current_app.app_context(), unit_of_work(commit_on=(DomainError,)) as own:
                reporter_id = reporting.authenticate(
                    own,
                    number=request.form.get("number", ""),
                    code=request.form.get("code", ""),
                    client_digest=_client_digest(),
                    now=clock.utcnow(),
                ).id
        except DomainError as error:
            flash(error.message, "danger")
            return self.render_template("public/track_form.html", title=title), error.status
        session[SESSION_KEY] = reporter_id
        return redirect(url_for("PublicTrackView.case"))

    def _tracked(self, *, for_update: bool = False):
        """The tracked reporter and case; an action (``for_update``) locks the case row as
        the staff's actions do, so two requests on one case cannot both pass the checks."""
        try:
            return reporting.tracked_case(db.session, session.get(SESSION_KEY), for_update=for_update)
        except DomainError:
            return None, None

    @expose("/case", methods=["GET"])
    def case(self):
        reporter, case = self._tracked()
        if case is None:
            return redirect(url_for("PublicTrackView.form"))
        can_rate = reporting.may_rate(case, reporter)
        from app.rewards import REWARD_LABELS, PayMethod
        from models import Reward

        reward = db.session.query(Reward).filter_by(reporter_id=reporter.id).first()
        response = make_response(
            self.render_template(
                "public/track_case.html",
                case=case,
                reporter=reporter,
                label=label,
                reward=reward,
                reward_label=lambda v: gettext(REWARD_LABELS[v]),
                methods=[(m.value, gettext(REWARD_LABELS[m])) for m in PayMethod],
                local_time=local_time,
                timeline=reporting.public_timeline(case),
                messages=reporting.messages_for(case, reporter),
                files=_reporter_files(case, reporter),
                can_rate=can_rate,
                status_label=reporter_status,
                fixed_text=fixed_text,
                case_open=case.status in OPEN_STATUSES,
                ratings=[(r.value, label(r)) for r in Rating],
                title=gettext("Follow my case"),
            )
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def _act(self, do):
        reporter, case = self._tracked(for_update=True)
        if case is None:
            return redirect(url_for("PublicTrackView.form"))
        if not _csrf_ok():
            flash(gettext("The page expired; please submit the form again."), "danger")
            return redirect(url_for("PublicTrackView.case"))
        _, error = attempt(lambda: do(reporter, case, clock.utcnow()))
        if error is not None:  # files it wrote are removed on its rollback
            flash(error.message, "danger")
        else:
            flash(gettext("Thank you, it has been recorded."), "info")
        return redirect(url_for("PublicTrackView.case"))

    @expose("/message", methods=["POST"])
    def message(self):
        return self._act(
            lambda reporter, case, now: (
                reporting.reporter_message(db.session, case, reporter, now=now, body=request.form.get("body"))
                and None
            )
        )

    @expose("/material", methods=["POST"])
    def material(self):
        return self._act(
            lambda reporter, case, now: reporting.add_material(
                db.session, case, reporter, now=now, text=request.form.get("text"), files=_uploaded_files()
            )
        )

    @expose("/rate", methods=["POST"])
    def rate(self):
        return self._act(
            lambda reporter, case, now: (
                reporting.rate_case(
                    db.session,
                    case,
                    reporter,
                    now=now,
                    rating=request.form.get("rating"),
                    reason=request.form.get("reason"),
                )
                and None
            )
        )

    @expose("/reward/claim", methods=["POST"])
    def reward_claim(self):
        from app.services import rewards as reward_services

        def claim(reporter, case, now):
            reward = _own_reward(reporter)
            form = request.form
            reward_services.claim_reward(
                db.session,
                reward,
                reporter,
                now=now,
                method=form.get("method"),
                account_name=form.get("account_name"),
                bank=form.get("bank"),
                account_number=form.get("account_number"),
                phone=form.get("phone"),
            )

        return self._act(claim)

    @expose("/reward/confirm", methods=["POST"])
    def reward_confirm(self):
        from app.services import rewards as reward_services

        return self._act(
            lambda reporter, case, now: (
                reward_services.confirm_receipt(db.session, _own_reward(reporter), reporter, now=now) and None
            )
        )

    @expose("/leave", methods=["GET"])
    def leave(self):
        session.pop(SESSION_KEY, None)
        session.pop(RECEIPT_KEY, None)
        return redirect(url_for("PublicTrackView.form"))


def _own_reward(reporter):
    from app.errors import NotFound
    from models import Reward

    reward = db.session.query(Reward).filter_by(reporter_id=reporter.id).first()
    if reward is None:
        raise NotFound(N_("Reward not found."))
    return reward
