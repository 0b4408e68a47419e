"""Forms for intake and for each case action. They only collect input; services validate it."""

from __future__ import annotations

from flask_appbuilder.fieldwidgets import (
    BS3TextAreaFieldWidget,
    BS3TextFieldWidget,
    Select2ManyWidget,
    Select2Widget,
)
from flask_appbuilder.forms import DynamicForm
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional, ValidationError

from app.enums import (
    CaseType,
    Channel,
    DeclineReason,
    EvaluationSource,
    FindingResult,
    Grade,
    Rating,
    RevisitMethod,
    RevisitOutcome,
    Urgency,
)
from app.workflow import Action
from views.common import label


def _choices(enum_cls, blank=False):
    def build():
        options = [(m.value, label(m)) for m in enum_cls]
        return ([("", "—")] if blank else []) + options

    return build


class LazySelectField(SelectField):
    """A select whose choices are built per request (translated, current data)."""

    def __init__(self, *args, choices_factory=None, **kwargs):
        kwargs.setdefault("coerce", lambda value: value if value not in ("", "None") else None)
        super().__init__(*args, validators=[Optional()], validate_choice=False, **kwargs)
        # A field is bound once per form instance, i.e. per request: build the choices now.
        self.choices = choices_factory()


class StrictSelectField(LazySelectField):
    """A lazy select that refuses a value it does not offer (FAB's add and edit forms, where
    no service checks the value before it reaches the database)."""

    def pre_validate(self, form):
        if self.data is not None and self.data not in {str(v) for v, _ in self.choices}:
            raise ValidationError(str(_l("Choose one of the values offered.")))


class LazyMultiSelectField(SelectMultipleField):
    def __init__(self, *args, choices_factory=None, **kwargs):
        super().__init__(*args, validators=[Optional()], validate_choice=False, **kwargs)
        # A field is bound once per form instance, i.e. per request: build the choices now.
        self.choices = choices_factory()


def enum_select(enum_cls, title, blank: bool = True) -> LazySelectField:
    """A select over an enum with translated labels (for FAB search, add and edit forms)."""
    return StrictSelectField(title, choices_factory=_choices(enum_cls, blank=blank), widget=Select2Widget())


def _departments():
    from app.extensions import db
    from models import Department

    rows = db.session.query(Department).filter(Department.active.is_(True)).order_by(Department.code)
    return [("", "—")] + [(str(d.id), f"{label(d.level)} · {d.name}") for d in rows]


def _departments_in_scope():
    """The departments the actor's office may send a case to: those of its jurisdiction and of
    the jurisdictions under it (the services refuse any other)."""
    from app.extensions import db
    from app.services import jurisdictions
    from models import Department
    from views.common import current_actor

    rows = (
        db.session.query(Department)
        .filter(
            Department.active.is_(True),
            jurisdictions.scope_clause(Department.jurisdiction_id, current_actor()),
        )
        .order_by(Department.code)
    )
    return [("", "—")] + [(str(d.id), f"{label(d.level)} · {d.name}") for d in rows]


def _lower_jurisdictions():
    """The jurisdictions directly under the actor's office (a case is sent down to one)."""
    from app.errors import DomainError
    from app.extensions import db
    from app.services import jurisdictions
    from views.common import current_actor

    try:
        own = jurisdictions.get(db.session, current_actor().jurisdiction_id)
    except DomainError:
        return [("", "—")]
    return [("", "—")] + [(str(j.id), j.name) for j in jurisdictions.children(db.session, own.id)]


def _intake_regions():
    from views.jurisdictions import intake_region_choices

    return intake_region_choices()


def _categories():
    from app.extensions import db
    from models import Category

    rows = db.session.query(Category).filter(Category.active.is_(True)).order_by(Category.code)
    return [("", "—")] + [(str(c.id), str(c)) for c in rows]


def _text(name, title, area=False):
    if area:
        return TextAreaField(title, widget=BS3TextAreaFieldWidget(), validators=[Optional()])
    return StringField(title, widget=BS3TextFieldWidget(), validators=[Optional()])


def _select(title, factory):
    return LazySelectField(title, choices_factory=factory, widget=Select2Widget())


FIELDS = {
    "case_type": lambda: _select(_l("Case type"), _choices(CaseType)),
    "category_id": lambda: _select(_l("Category"), _categories),
    "urgency": lambda: _select(_l("Urgency"), _choices(Urgency)),
    "grade": lambda: _select(_l("Grade (reports only)"), _choices(Grade, blank=True)),
    "channel": lambda: _select(
        _l("Channel"),
        lambda: [(c.value, label(c)) for c in (Channel.PHONE_12345, Channel.WINDOW, Channel.LETTER)],
    ),
    "title": lambda: _text("title", _l("Title")),
    "content": lambda: _text("content", _l("What happened"), area=True),
    # chosen from the region tree (views/jurisdictions.py): the case lands in its jurisdiction
    "region": lambda: StrictSelectField(
        _l("Region"), choices_factory=_intake_regions, widget=Select2Widget()
    ),
    "location": lambda: _text("location", _l("Window or office")),
    "concerned_department_id": lambda: _select(_l("Department concerned"), _departments),
    "concerned_official": lambda: _text("concerned_official", _l("Official concerned")),
    "anonymous": lambda: BooleanField(_l("Anonymous")),
    "confidential": lambda: BooleanField(_l("Keep identity from the handling department")),
    "reporter_name": lambda: _text("reporter_name", _l("Reporter name")),
    "reporter_phone": lambda: _text("reporter_phone", _l("Reporter phone")),
    "reporter_company": lambda: _text("reporter_company", _l("Company")),
    "credit_code": lambda: _text("credit_code", _l("Unified social credit code")),
    "note": lambda: _text("note", _l("Note"), area=True),
    "reason": lambda: _text("reason", _l("Reason"), area=True),
    "reply": lambda: _text("reply", _l("Reply to the reporter"), area=True),
    "decline_reason": lambda: _select(_l("Reason"), _choices(DeclineReason)),
    "lead_department_id": lambda: _select(_l("Lead department"), _departments_in_scope),
    "co_department_ids": lambda: LazyMultiSelectField(
        _l("Co-handling departments"),
        choices_factory=lambda: _departments_in_scope()[1:],
        widget=Select2ManyWidget(),
    ),
    "into_case": lambda: _text("into_case", _l("Case number to merge into")),
    "attachments": lambda: MultipleFileField(_l("Attachments")),
    "days": lambda: IntegerField(_l("Working days"), widget=BS3TextFieldWidget(), validators=[Optional()]),
    # no default: the supervisor records what was actually said, and how
    "rating": lambda: _select(_l("Rating"), _choices(Rating, blank=True)),
    "source": lambda: _select(_l("Evaluation source"), _choices(EvaluationSource, blank=True)),
    "method": lambda: _select(_l("How the revisit was made"), _choices(RevisitMethod, blank=True)),
    # Verification and rectification
    "result": lambda: _select(_l("Finding"), _choices(FindingResult, blank=True)),
    "facts": lambda: _text("facts", _l("Facts established (internal)"), area=True),
    "summary": lambda: _text("summary", _l("Initial result for the reporter"), area=True),
    "measures": lambda: _text("measures", _l("Rectification measures"), area=True),
    "responsible": lambda: _text("responsible", _l("Person responsible")),
    "completion": lambda: _text("completion", _l("What was rectified"), area=True),
    # Co-handling and revisits
    "part_answer": lambda: _text("part_answer", _l("Our part's answer to the lead department"), area=True),
    "outcome": lambda: _select(_l("Call outcome"), _choices(RevisitOutcome, blank=True)),
    "notes": lambda: _text("notes", _l("Call notes"), area=True),
    # Across the levels of government: the lower office a case is sent down to, and its deadline
    "jurisdiction_id": lambda: _select(_l("Lower office"), _lower_jurisdictions),
    "working_days": lambda: IntegerField(
        _l("Deadline (working days)"), widget=BS3TextFieldWidget(), validators=[Optional()]
    ),
}

INTAKE_FIELDS = [
    "channel",
    "case_type",
    "category_id",
    "urgency",
    "grade",
    "title",
    "content",
    "region",
    "location",
    "concerned_department_id",
    "concerned_official",
    "anonymous",
    "confidential",
    "reporter_name",
    "reporter_phone",
    "reporter_company",
    "credit_code",
]

# Form fields per action, and how a field maps onto the service's parameter.
ACTION_FIELDS: dict[Action, list[str]] = {
    Action.CLASSIFY: ["case_type", "category_id", "urgency", "grade", "note"],
    Action.ACCEPT: ["note"],
    Action.DECLINE: ["decline_reason", "note"],
    Action.DISPATCH: ["lead_department_id", "co_department_ids", "note"],
    Action.SIGN: ["note"],
    Action.ADD_NOTE: ["note"],
    Action.REPLY: ["reply", "note"],
    Action.REQUEST_EXTENSION: ["days", "reason"],
    Action.APPROVE_EXTENSION: ["note"],
    Action.REFUSE_EXTENSION: ["note"],
    Action.RETURN: ["reason"],
    Action.EVALUATE: ["rating", "source", "method", "reason"],
    Action.REHANDLE: ["note", "lead_department_id"],
    Action.ESCALATE: ["note"],
    Action.CLOSE: ["note"],
    Action.MERGE: ["into_case", "note"],
    Action.RECORD_FINDING: ["result", "facts", "summary", "attachments"],
    Action.PLAN_RECTIFICATION: ["measures", "responsible", "days"],
    Action.REPORT_RECTIFICATION: ["completion", "attachments"],
    Action.ACCEPT_RECTIFICATION: ["note"],
    Action.REJECT_RECTIFICATION: ["note", "days"],
    Action.PAUSE_CLOCK: ["reason"],
    Action.RESUME_CLOCK: ["note"],
    Action.RETURN_PART: ["reason"],
    Action.REPLY_PART: ["part_answer"],
    Action.RAISE_DISPUTE: ["reason"],
    Action.DECIDE_DISPUTE: ["lead_department_id", "note"],
    Action.REJECT_REPLY: ["reason"],
    Action.RECORD_REVISIT: ["outcome", "rating", "method", "notes"],
    Action.REFER_UP: ["note"],
    Action.PULL_UP: ["note"],
    Action.SEND_DOWN: ["jurisdiction_id", "working_days", "note"],
}
PARAM_NAMES = {"decline_reason": "reason", "attachments": "files"}


def build_form(field_names: list[str]) -> type[DynamicForm]:
    """Make a form class with the named fields (CSRF included by Flask-WTF)."""
    attrs = {name: FIELDS[name]() for name in field_names}
    return type("ActionForm", (DynamicForm,), attrs)


def form_params(form, field_names: list[str]) -> dict:
    """Turn submitted form data into service keyword arguments (files as (name, bytes) pairs)."""
    params = {}
    for name in field_names:
        data = getattr(form, name).data
        if name == "attachments":
            data = [(f.filename, f.read()) for f in data or () if f and getattr(f, "filename", None)]
        params[PARAM_NAMES.get(name, name)] = data
    return params
