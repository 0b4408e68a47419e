"""REST APIs (OpenAPI at /api/v1/_openapi). Status changes go through the same services."""

from __future__ import annotations

from flask import request
from flask_appbuilder import ModelRestApi
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from marshmallow import Schema, ValidationError, fields
from sqlalchemy.exc import IntegrityError

from app import clock
from app.enums import CaseType, Channel, Grade, Urgency
from app.errors import DomainError, DoneMeanwhile
from app.extensions import db
from app.services import cases as case_services
from app.services import reporting, visibility
from app.services.reference import validate_department
from app.services.settings import check_policy_days
from app.transaction import discard
from models import (
    CalendarDay,
    CalendarYear,
    CaseEvent,
    Category,
    DeadlinePolicy,
    Department,
    DispatchRule,
)
from models import Case as CaseModel
from models import Reward as RewardModel
from views.common import current_actor
from views.filters import ClauseFilter, VisibleCaseChildFilter, VisibleCaseFilter
from views.paging import BoundedCountApiInterface


def _error(api, error: DomainError):
    """A refusal as a JSON error with its status; the unit of work is discarded."""
    discard(db.session)
    return api.response(error.status, message=error.message)


class CaseIntakeSchema(Schema):
    """A case taken on behalf of a reporter (or sent by a connected system)."""

    case_type = fields.String(required=True, metadata={"enum": [t.value for t in CaseType]})
    channel = fields.String(required=True, metadata={"enum": [c.value for c in Channel]})
    urgency = fields.String(metadata={"enum": [u.value for u in Urgency]})
    grade = fields.String(allow_none=True, metadata={"enum": [g.value for g in Grade]})
    category_id = fields.Integer(allow_none=True)
    title = fields.String(required=True)
    content = fields.String(required=True)
    region = fields.String()
    location = fields.String(allow_none=True)
    concerned_department_id = fields.Integer(allow_none=True)
    concerned_official = fields.String(allow_none=True)
    anonymous = fields.Boolean()
    confidential = fields.Boolean()
    reporter_name = fields.String(allow_none=True)
    reporter_phone = fields.String(allow_none=True)
    reporter_company = fields.String(allow_none=True)
    credit_code = fields.String(allow_none=True)


CASE_COLUMNS = [
    "id",
    "number",
    "status",
    "case_type",
    "urgency",
    "grade",
    "channel",
    "title",
    "content",
    "region",
    "location",
    "category_id",
    "concerned_department_id",
    "concerned_official",
    "proposed_department_id",
    "lead_department_id",
    "created_at",
    "accepted_at",
    "dispatched_at",
    "replied_at",
    "closed_at",
    "accept_due_at",
    "dispatch_due_at",
    "due_at",
    "due_provisional",
    "reply",
    "rating",
    "rating_source",
    "rehandle_count",
    "escalation_count",
    "is_difficult",
]


class CaseApi(ModelRestApi):
    resource_name = "case"
    datamodel = BoundedCountApiInterface(CaseModel)  # count stops at 10,001
    allow_browser_login = False  # JWT only: a cookie-authenticated write would be open to CSRF
    base_permissions = ["can_get", "can_info", "can_post", "can_act"]
    base_filters = [["id", VisibleCaseFilter, None]]
    list_columns = [
        "id",
        "number",
        "status",
        "case_type",
        "urgency",
        "channel",
        "title",
        "lead_department_id",
        "created_at",
        "due_at",
        "due_provisional",
    ]
    show_columns = CASE_COLUMNS
    search_columns = [
        "number",
        "status",
        "case_type",
        "urgency",
        "channel",
        "lead_department_id",
        "category_id",
    ]
    order_columns = ["id", "created_at", "due_at"]
    add_model_schema = CaseIntakeSchema()
    add_columns = list(CaseIntakeSchema().fields)  # what _info describes for the intake
    edit_columns = ["title"]  # never edited through the API (PUT is not permitted)
    openapi_spec_methods = {"post": {"post": {"summary": "File a case (intake)."}}}

    def post_headless(self):
        if not request.is_json:
            return self.response_400(message="Request is not JSON")
        try:
            data = self.add_model_schema.load(request.json)
        except ValidationError as err:
            return self.response_422(message=err.messages)
        try:
            case, _ = reporting.file_case(
                db.session, actor=current_actor(), now=clock.utcnow(), data=data, files=[]
            )
            # The query code is returned once, for the caller to pass on to the reporter
            # (read before the commit, which would expire the case and read it again).
            answer = {
                "id": case.id,
                "number": case.number,
                "status": str(case.status),
                "query_code": case.query_code,
            }
        except DomainError as error:
            return _error(self, error)
        return self.response(201, **answer)

    @expose("/<int:pk>/actions", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def actions(self, pk: int):
        """List the actions the caller may take on a case now.
        ---
        get:
          parameters:
          - in: path
            name: pk
            schema:
              type: integer
          responses:
            200:
              description: Allowed actions
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      actions:
                        type: array
                        items:
                          type: string
            404:
              $ref: '#/components/responses/404'
        """
        actor = current_actor()
        try:
            case = case_services.get_case(db.session, pk, actor)
        except DomainError as error:
            return _error(self, error)
        return self.response(
            200, actions=[str(a) for a in case_services.available_actions(db.session, case, actor)]
        )

    @expose("/<int:pk>/actions/<action>", methods=["POST"])
    @protect()
    @safe
    @permission_name("act")
    def act(self, pk: int, action: str):
        """Take an action on a case (accept, dispatch, sign, reply, evaluate, close...).
        ---
        post:
          description: >-
            The JSON body holds the parameters of the action, for example lead_department_id
            and co_department_ids for dispatch, reply and note for reply, rating, source and
            reason for evaluate. Illegal moves answer 409, forbidden roles 403, bad input 422.
          parameters:
          - in: path
            name: pk
            schema:
              type: integer
          - in: path
            name: action
            schema:
              type: string
              enum: [classify, accept, decline, dispatch, sign, add_note, reply,
                     request_extension, approve_extension, refuse_extension, return,
                     evaluate, rehandle, escalate, close]
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  additionalProperties: true
          responses:
            200:
              description: The case after the action
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The workflow does not allow this action now
            422:
              $ref: '#/components/responses/422'
        """
        params = request.get_json(silent=True) if request.data else {}
        if not isinstance(params, dict):
            return self.response_400(message="Request body must be a JSON object")
        try:
            case = case_services.perform(
                db.session, pk, action, actor=current_actor(), now=clock.utcnow(), params=params
            )
        except DomainError as error:
            return _error(self, error)
        except IntegrityError:  # the same action twice at once: the database kept one
            return _error(self, DoneMeanwhile())
        return self.response(
            200,
            id=case.id,
            number=case.number,
            status=str(case.status),
            due_at=case.due_at.isoformat() if case.due_at else None,
        )


class RewardApi(ModelRestApi):
    """Rewards (never payment details: those are for Finance, on the reward screen)."""

    resource_name = "reward"
    datamodel = SQLAInterface(RewardModel)
    allow_browser_login = False
    base_permissions = ["can_get", "can_info", "can_act"]
    base_filters = [["id", ClauseFilter, visibility.visible_rewards_clause]]  # seen when its case is
    # _info lists the values of the related fields: only the cases the caller may see.
    add_query_rel_fields = edit_query_rel_fields = {"case": [["id", VisibleCaseFilter, None]]}
    list_columns = show_columns = [
        "id",
        "case_id",
        "reporter_id",
        "tier_id",
        "department_id",
        "amount_yuan",
        "approvals_needed",
        "status",
        "proposed_at",
        "approved_at",
        "payment_due_at",
        "paid_at",
    ]
    search_columns = ["status", "tier_id", "department_id", "case_id"]

    @expose("/<int:pk>/actions/<action>", methods=["POST"])
    @protect()
    @safe
    @permission_name("act")
    def act(self, pk: int, action: str):
        """Approve, refuse, record a payment or reverse one.
        ---
        post:
          parameters:
          - in: path
            name: pk
            schema:
              type: integer
          - in: path
            name: action
            schema:
              type: string
              enum: [approve, refuse, pay, reverse]
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    note:
                      type: string
                    method:
                      type: string
                      enum: [bank, mobile]
                    reference:
                      type: string
          responses:
            200:
              description: The reward after the action
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
            409:
              description: The reward flow does not allow this action now
            422:
              $ref: '#/components/responses/422'
        """
        from app.services import rewards as reward_services

        service = reward_services.REWARD_SERVICES.get(action)
        params = request.get_json(silent=True) if request.data else {}
        if service is None or not isinstance(params, dict):
            return (
                self.response_404()
                if service is None
                else self.response_400(message="Request body must be a JSON object")
            )
        params = {k: v for k, v in params.items() if k in ("note", "method", "reference")}
        try:
            reward = service(db.session, pk, actor=current_actor(), now=clock.utcnow(), **params)
        except DomainError as error:
            return _error(self, error)
        except IntegrityError:
            return _error(self, DoneMeanwhile())
        except TypeError:
            discard(db.session)
            return self.response_422(message="Invalid parameters for this action")
        return self.response(200, id=reward.id, status=str(reward.status))


class CaseEventApi(ModelRestApi):
    """The timeline of the cases the caller may see."""

    resource_name = "case_event"
    datamodel = SQLAInterface(CaseEvent)
    allow_browser_login = False  # JWT only: a cookie-authenticated write would be open to CSRF
    base_permissions = ["can_get", "can_info"]
    base_filters = [["id", VisibleCaseChildFilter, None]]
    # _info lists the values of the related fields: only the cases the caller may see.
    add_query_rel_fields = edit_query_rel_fields = {"case": [["id", VisibleCaseFilter, None]]}
    list_columns = show_columns = [
        "id",
        "case_id",
        "action",
        "from_status",
        "to_status",
        "at",
        "actor_name",
        "department_id",
        "note",
        "public_text",
    ]
    search_columns = ["case_id", "action"]
    order_columns = ["id", "at"]


class DomainErrorsAsJson:
    """Turn a refusal raised by a pre_add/pre_update rule into a JSON error, not a 500."""

    def post_headless(self):
        try:
            return super().post_headless()
        except DomainError as error:
            return _error(self, error)

    def put_headless(self, pk):
        try:
            return super().put_headless(pk)
        except DomainError as error:
            return _error(self, error)


def _reference_api(model, name, columns, **extra):
    return type(
        f"{model.__name__}Api",
        (DomainErrorsAsJson, ModelRestApi),
        {
            **extra,
            "resource_name": name,
            "datamodel": SQLAInterface(model),
            "allow_browser_login": False,
            "list_columns": columns,
            "show_columns": columns,
            "add_columns": [c for c in columns if c != "id"],
            "edit_columns": [c for c in columns if c != "id"],
            "search_columns": [c for c in columns if c != "id"],
            "__doc__": f"{model.__name__} reference data.",
        },
    )


DepartmentApi = _reference_api(
    Department,
    "department",
    ["id", "code", "name", "level", "parent_id", "head", "region", "active", "discipline_inspection"],
    pre_add=lambda self, item: validate_department(db.session, item),
    pre_update=lambda self, item: validate_department(db.session, item),
)
CategoryApi = _reference_api(
    Category, "category", ["id", "code", "name", "parent_id", "description", "sort_order", "active"]
)
CalendarYearApi = _reference_api(CalendarYear, "calendar_year", ["year", "official", "note"])
CalendarDayApi = _reference_api(CalendarDay, "calendar_day", ["id", "day", "kind", "name"])
DeadlinePolicyApi = _reference_api(
    DeadlinePolicy,
    "deadline_policy",
    ["id", "case_type", "urgency", "multi_department", "working_days", "note"],
    pre_add=lambda self, item: check_policy_days(item.working_days),
    pre_update=lambda self, item: check_policy_days(item.working_days),
)
DispatchRuleApi = _reference_api(
    DispatchRule,
    "dispatch_rule",
    ["id", "category_id", "region", "keywords", "department_id", "priority", "active", "note"],
)
REFERENCE_APIS = [
    DepartmentApi,
    CategoryApi,
    CalendarYearApi,
    CalendarDayApi,
    DeadlinePolicyApi,
    DispatchRuleApi,
]


def _recompute_after_change(api_class):
    """Calendar and policy edits through the API recompute open deadlines, like the screens."""

    def hook(self, item):
        from app.services.cases import request_recompute

        request_recompute(db.session)

    api_class.post_add = api_class.post_update = api_class.post_delete = hook


for _api in (CalendarYearApi, CalendarDayApi, DeadlinePolicyApi):
    _recompute_after_change(_api)
