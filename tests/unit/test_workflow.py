"""The flow of a case (DOMAIN.md, "The flow of a case"):
受理 accept → 分办 dispatch → 签收 sign → 办理 handle → 答复 reply → 评价 evaluate → 办结 close.

The expected matrix below is written from DOMAIN.md, independently of app.workflow.TRANSITIONS:
every (status, action, role) combination is checked against it."""

from __future__ import annotations

import itertools

import pytest

from app.workflow import (
    EVALUATION_TARGETS,
    OPEN_STATUSES,
    TRANSITIONS,
    Action,
    Guard,
    Role,
    Status,
    allowed_actions,
    find_transition,
)

S, A, R = Status, Action, Role

# Who may do what, from which status (all guards satisfied).
EXPECTED: dict[tuple[Status, Action], frozenset[Role]] = {
    # Intake: the clerk accepts or declines submitted cases and classifies them, and may
    # re-classify a case that is accepted or came back from a department.
    (S.SUBMITTED, A.CLASSIFY): frozenset({R.CLERK}),
    (S.ACCEPTED, A.CLASSIFY): frozenset({R.CLERK}),
    (S.RETURNED, A.CLASSIFY): frozenset({R.CLERK}),
    (S.SUBMITTED, A.ACCEPT): frozenset({R.CLERK}),
    (S.SUBMITTED, A.DECLINE): frozenset({R.CLERK}),
    # A duplicate is merged into the case it repeats (its reporters keep their receipts).
    (S.SUBMITTED, A.MERGE): frozenset({R.CLERK}),
    # Dispatch: accepted cases, and cases a department returned as misrouted.
    (S.ACCEPTED, A.DISPATCH): frozenset({R.DISPATCHER}),
    (S.RETURNED, A.DISPATCH): frozenset({R.DISPATCHER}),
    # The department's handler signs for a dispatched case. A multi-department case is already
    # being handled once its first department signs; each co-handling department (协办) still
    # signs for its own part, so signing is also possible while the case is being handled.
    (S.DISPATCHED, A.SIGN): frozenset({R.HANDLER}),
    (S.HANDLING, A.SIGN): frozenset({R.HANDLER}),
    # Handling: notes, the reply, extension requests.
    (S.HANDLING, A.ADD_NOTE): frozenset({R.HANDLER}),
    (S.HANDLING, A.REPLY): frozenset({R.HANDLER}),
    (S.HANDLING, A.REQUEST_EXTENSION): frozenset({R.HANDLER}),
    # 退单: a misrouted case goes back, before or after signing.
    (S.DISPATCHED, A.RETURN): frozenset({R.HANDLER}),
    (S.HANDLING, A.RETURN): frozenset({R.HANDLER}),
    # The supervisor's office decides on extensions.
    (S.HANDLING, A.APPROVE_EXTENSION): frozenset({R.SUPERVISOR}),
    (S.HANDLING, A.REFUSE_EXTENSION): frozenset({R.SUPERVISOR}),
    # Evaluation of the reply (by the reporter or a revisit call, recorded by the supervisor).
    (S.REPLIED, A.EVALUATE): frozenset({R.SUPERVISOR, R.REPORTER}),  # the reporter rates directly
    # Unsatisfied: re-handling (二次分办/重办), escalation (提级办理), or closing.
    (S.UNSATISFIED, A.REHANDLE): frozenset({R.SUPERVISOR}),
    (S.UNSATISFIED, A.ESCALATE): frozenset({R.SUPERVISOR}),
    (S.HANDLING, A.ESCALATE): frozenset({R.SUPERVISOR}),
    (S.EVALUATED, A.CLOSE): frozenset({R.SUPERVISOR}),
    (S.UNSATISFIED, A.CLOSE): frozenset({R.SUPERVISOR}),
    # Verification (核查, 000): the department handling the case records the finding; a B-grade
    # report is verified by the supervisor's office before dispatch (002, Qiu county), and the
    # office answers it itself when it found it untrue or unverifiable.
    (S.ACCEPTED, A.RECORD_FINDING): frozenset({R.HANDLER, R.SUPERVISOR}),
    (S.HANDLING, A.RECORD_FINDING): frozenset({R.HANDLER, R.SUPERVISOR}),
    (S.ACCEPTED, A.REPLY): frozenset({R.SUPERVISOR}),
    # The office refuses an improper reply (a request to close, 004): the case goes back.
    (S.REPLIED, A.REJECT_REPLY): frozenset({R.SUPERVISOR}),
    # Stopping the clock while waiting for the reporter's material (停表).
    (S.HANDLING, A.PAUSE_CLOCK): frozenset({R.HANDLER}),
    (S.HANDLING, A.RESUME_CLOCK): frozenset({R.HANDLER}),
    # Co-handling (004): a co-handler returns or answers its own part; disputes go to the office.
    (S.DISPATCHED, A.RETURN_PART): frozenset({R.HANDLER}),
    (S.HANDLING, A.RETURN_PART): frozenset({R.HANDLER}),
    (S.HANDLING, A.REPLY_PART): frozenset({R.HANDLER}),
    (S.DISPATCHED, A.RAISE_DISPUTE): frozenset({R.HANDLER}),
    (S.HANDLING, A.RAISE_DISPUTE): frozenset({R.HANDLER}),
    (S.DISPATCHED, A.DECIDE_DISPUTE): frozenset({R.DISPATCHER, R.SUPERVISOR}),
    (S.HANDLING, A.DECIDE_DISPUTE): frozenset({R.DISPATCHER, R.SUPERVISOR}),
    # Revisit calls (002, 004): unrated replies, and the sample of closed (or rated) cases.
    (S.REPLIED, A.RECORD_REVISIT): frozenset({R.SUPERVISOR, R.CLERK}),
    (S.EVALUATED, A.RECORD_REVISIT): frozenset({R.SUPERVISOR, R.CLERK}),
    (S.CLOSED, A.RECORD_REVISIT): frozenset({R.SUPERVISOR, R.CLERK}),
}
# Across the levels of government (issue 15, 001/003): the office whose case it is refers a
# difficult one up to the office above (提级办理) or sends an accepted one down to an office
# below with a deadline (交办); an upper office takes over (上收) a lower office's case, even one
# not yet accepted. Dispatchers and supervisors decide these moves; a case already answered
# (replied, evaluated) or finished stays where it is.
OFFICE_DECIDES = frozenset({R.DISPATCHER, R.SUPERVISOR})
ON_THE_WAY = (S.ACCEPTED, S.RETURNED, S.DISPATCHED, S.HANDLING, S.UNSATISFIED)
for _status in ON_THE_WAY:
    EXPECTED[(_status, A.REFER_UP)] = OFFICE_DECIDES
    EXPECTED[(_status, A.PULL_UP)] = OFFICE_DECIDES
EXPECTED[(S.SUBMITTED, A.PULL_UP)] = OFFICE_DECIDES
for _status in (S.ACCEPTED, S.RETURNED):  # sent down before it is dispatched
    EXPECTED[(_status, A.SEND_DOWN)] = OFFICE_DECIDES
# Rectification (整改) runs beside the reply and the rating, from handling until closing: the
# lead department plans it and reports it done, the office re-checks it (复核).
for _status in (S.HANDLING, S.REPLIED, S.UNSATISFIED, S.EVALUATED):
    EXPECTED[(_status, A.PLAN_RECTIFICATION)] = frozenset({R.HANDLER})
    EXPECTED[(_status, A.REPORT_RECTIFICATION)] = frozenset({R.HANDLER})
    EXPECTED[(_status, A.ACCEPT_RECTIFICATION)] = frozenset({R.SUPERVISOR})
    EXPECTED[(_status, A.REJECT_RECTIFICATION)] = frozenset({R.SUPERVISOR})

ALL_FACTS = frozenset(Guard)
COMBINATIONS = list(itertools.product(Status, Action, Role))


def expected_allowed(status: Status, action: Action, role: Role) -> bool:
    return role in EXPECTED.get((status, action), frozenset())


@pytest.mark.parametrize(
    ("status", "action", "role"), COMBINATIONS, ids=[f"{s}-{a}-{r}" for s, a, r in COMBINATIONS]
)
def test_the_transition_table_follows_the_flow(status, action, role):
    transition = find_transition(action, status)
    table_allows = transition is not None and role in transition.roles
    assert table_allows == expected_allowed(status, action, role)
    assert (action in allowed_actions(status, {role}, ALL_FACTS)) == expected_allowed(status, action, role)


def test_the_table_has_no_row_the_flow_does_not_know():
    assert {(t.source, t.action) for t in TRANSITIONS} == set(EXPECTED)
    assert len(TRANSITIONS) == len(EXPECTED)  # one row per (status, action)


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_for_several_roles_is_the_union_of_each_roles_actions(status):
    roles = {R.CLERK, R.DISPATCHER, R.HANDLER, R.SUPERVISOR}
    union = {a for r in roles for a in allowed_actions(status, {r}, ALL_FACTS)}
    assert set(allowed_actions(status, roles, ALL_FACTS)) == union


# --- who never acts --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [R.LEADER, R.ADMIN])
@pytest.mark.parametrize("status", list(Status))
def test_leaders_and_administrators_never_act_on_a_case(role, status):
    assert allowed_actions(status, {role}, ALL_FACTS) == []


def test_a_declined_case_is_terminal():
    assert allowed_actions(S.DECLINED, set(Role), ALL_FACTS) == []
    assert all(find_transition(action, S.DECLINED) is None for action in Action)
    assert S.DECLINED not in OPEN_STATUSES


def test_a_closed_case_is_only_reopened_by_an_unsatisfied_revisit_call():
    """A sampled revisit of a closed case (002) records the call; an unsatisfied rating
    re-opens the path to re-handling (the outcome decides the target)."""
    assert allowed_actions(S.CLOSED, set(Role), ALL_FACTS) == [A.RECORD_REVISIT]
    assert find_transition(A.RECORD_REVISIT, S.CLOSED).target is None
    assert S.CLOSED not in OPEN_STATUSES


def test_every_other_status_is_open():
    assert OPEN_STATUSES == frozenset(Status) - {S.CLOSED, S.DECLINED}


# --- where each move leads -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "source", "target"),
    [
        (A.ACCEPT, S.SUBMITTED, S.ACCEPTED),
        (A.DECLINE, S.SUBMITTED, S.DECLINED),
        (A.DISPATCH, S.ACCEPTED, S.DISPATCHED),
        (A.DISPATCH, S.RETURNED, S.DISPATCHED),
        (A.SIGN, S.DISPATCHED, S.HANDLING),
        (A.SIGN, S.HANDLING, S.HANDLING),
        (A.REPLY, S.HANDLING, S.REPLIED),
        (A.RETURN, S.DISPATCHED, S.RETURNED),
        (A.RETURN, S.HANDLING, S.RETURNED),
        (A.REHANDLE, S.UNSATISFIED, S.DISPATCHED),
        (A.ESCALATE, S.UNSATISFIED, S.DISPATCHED),
        (A.ESCALATE, S.HANDLING, S.DISPATCHED),
        (A.CLOSE, S.EVALUATED, S.CLOSED),
        (A.CLOSE, S.UNSATISFIED, S.CLOSED),
        # A case referred up or sent down waits in the receiving office's dispatch queue.
        (A.REFER_UP, S.HANDLING, S.ACCEPTED),
        (A.REFER_UP, S.UNSATISFIED, S.ACCEPTED),
        (A.REFER_UP, S.RETURNED, S.ACCEPTED),
        (A.SEND_DOWN, S.ACCEPTED, S.ACCEPTED),
        (A.SEND_DOWN, S.RETURNED, S.ACCEPTED),
    ],
)
def test_each_step_leads_to_the_next_status(action, source, target):
    assert find_transition(action, source).target == target


@pytest.mark.parametrize(
    ("action", "source"),
    [
        (A.CLASSIFY, S.SUBMITTED),
        (A.CLASSIFY, S.ACCEPTED),
        (A.CLASSIFY, S.RETURNED),
        (A.ADD_NOTE, S.HANDLING),
        (A.REQUEST_EXTENSION, S.HANDLING),
        (A.APPROVE_EXTENSION, S.HANDLING),
        (A.REFUSE_EXTENSION, S.HANDLING),
    ],
)
def test_bookkeeping_moves_keep_the_status(action, source):
    assert find_transition(action, source).target == source


def test_the_rating_decides_where_an_evaluation_leads():
    assert find_transition(A.EVALUATE, S.REPLIED).target is None
    assert EVALUATION_TARGETS == {
        "satisfied": S.EVALUATED,
        "basically_satisfied": S.EVALUATED,
        "unsatisfied": S.UNSATISFIED,
    }


def test_find_transition_accepts_the_stored_string_values():
    assert find_transition("accept", "submitted") == find_transition(A.ACCEPT, S.SUBMITTED)


# --- no closing while a re-handling is pending ------------------------------------------------


@pytest.mark.parametrize("status", [S.DISPATCHED, S.HANDLING, S.REPLIED, S.RETURNED, S.ACCEPTED, S.SUBMITTED])
def test_no_case_closes_before_it_is_evaluated_or_while_a_re_handling_is_pending(status):
    assert find_transition(A.CLOSE, status) is None
    assert A.CLOSE not in allowed_actions(status, set(Role), ALL_FACTS)


def test_a_re_handled_case_must_be_replied_and_evaluated_again_before_it_can_close():
    rehandled = find_transition(A.REHANDLE, S.UNSATISFIED).target
    assert A.CLOSE not in allowed_actions(rehandled, set(Role), ALL_FACTS)


# --- guards ----------------------------------------------------------------------------------

# The facts each guarded move depends on (DOMAIN.md: the lead department (牵头) replies and speaks
# for the case; each department signs for and works on its own assignment; one extension
# request at a time; re-handling up to the configured maximum; escalation to the next level up).
EXPECTED_GUARDS = {
    (S.DISPATCHED, A.SIGN): {Guard.ASSIGNED_TO_ACTOR, Guard.UNSIGNED_FOR_ACTOR},
    (S.HANDLING, A.SIGN): {Guard.ASSIGNED_TO_ACTOR, Guard.UNSIGNED_FOR_ACTOR},
    (S.HANDLING, A.ADD_NOTE): {Guard.ASSIGNED_TO_ACTOR},
    (S.HANDLING, A.REPLY): {Guard.LEAD_IS_ACTOR, Guard.FINDING_RECORDED},
    (S.HANDLING, A.REQUEST_EXTENSION): {Guard.LEAD_IS_ACTOR, Guard.NO_PENDING_EXTENSION},
    (S.HANDLING, A.APPROVE_EXTENSION): {Guard.PENDING_EXTENSION},
    (S.HANDLING, A.REFUSE_EXTENSION): {Guard.PENDING_EXTENSION},
    (S.DISPATCHED, A.RETURN): {Guard.LEAD_IS_ACTOR},
    (S.HANDLING, A.RETURN): {Guard.LEAD_IS_ACTOR},
    (S.UNSATISFIED, A.REHANDLE): {Guard.REHANDLE_LEFT},
    (S.UNSATISFIED, A.ESCALATE): {Guard.HAS_HIGHER_LEVEL},
    (S.HANDLING, A.ESCALATE): {Guard.HAS_HIGHER_LEVEL},
    # A B-grade report is dispatched only after the office's preliminary verification.
    (S.ACCEPTED, A.DISPATCH): {Guard.VERIFIED_FIRST},
    (S.RETURNED, A.DISPATCH): {Guard.VERIFIED_FIRST},
    # No case closes while its rectification is open.
    (S.EVALUATED, A.CLOSE): {Guard.NO_OPEN_RECTIFICATION},
    (S.UNSATISFIED, A.CLOSE): {Guard.NO_OPEN_RECTIFICATION},
    (S.ACCEPTED, A.RECORD_FINDING): {Guard.VERIFIER_IS_ACTOR},
    (S.HANDLING, A.RECORD_FINDING): {Guard.VERIFIER_IS_ACTOR},
    (S.ACCEPTED, A.REPLY): {Guard.OFFICE_FOUND_UNFOUNDED},
    (S.REPLIED, A.REJECT_REPLY): {Guard.HANDLED_BY_DEPARTMENT},
    (S.HANDLING, A.PAUSE_CLOCK): {Guard.LEAD_IS_ACTOR, Guard.CLOCK_RUNNING},
    (S.HANDLING, A.RESUME_CLOCK): {Guard.LEAD_IS_ACTOR, Guard.CLOCK_PAUSED},
    (S.DISPATCHED, A.RETURN_PART): {Guard.CO_HANDLER_IS_ACTOR},
    (S.HANDLING, A.RETURN_PART): {Guard.CO_HANDLER_IS_ACTOR},
    (S.HANDLING, A.REPLY_PART): {Guard.CO_HANDLER_IS_ACTOR},
    (S.DISPATCHED, A.RAISE_DISPUTE): {Guard.ASSIGNED_TO_ACTOR, Guard.NO_OPEN_DISPUTE},
    (S.HANDLING, A.RAISE_DISPUTE): {Guard.ASSIGNED_TO_ACTOR, Guard.NO_OPEN_DISPUTE},
    (S.DISPATCHED, A.DECIDE_DISPUTE): {Guard.OPEN_DISPUTE},
    (S.HANDLING, A.DECIDE_DISPUTE): {Guard.OPEN_DISPUTE},
    (S.REPLIED, A.RECORD_REVISIT): {Guard.REVISIT_DUE},
    (S.EVALUATED, A.RECORD_REVISIT): {Guard.REVISIT_DUE},
    (S.CLOSED, A.RECORD_REVISIT): {Guard.REVISIT_DUE},
}
for _status in (S.HANDLING, S.REPLIED, S.UNSATISFIED, S.EVALUATED):
    EXPECTED_GUARDS[(_status, A.PLAN_RECTIFICATION)] = {
        Guard.LEAD_IS_ACTOR,
        Guard.RECTIFICATION_AWAITING_PLAN,
    }
    EXPECTED_GUARDS[(_status, A.REPORT_RECTIFICATION)] = {Guard.LEAD_IS_ACTOR, Guard.RECTIFICATION_PLANNED}
    EXPECTED_GUARDS[(_status, A.ACCEPT_RECTIFICATION)] = {Guard.RECTIFICATION_SUBMITTED}
    EXPECTED_GUARDS[(_status, A.REJECT_RECTIFICATION)] = {Guard.RECTIFICATION_SUBMITTED}
# Across levels: referring up needs an office above, sending down one below; taking over needs
# the case to be of an office under the actor's.
for _status in ON_THE_WAY:
    EXPECTED_GUARDS[(_status, A.REFER_UP)] = {Guard.HAS_PARENT_JURISDICTION}
    EXPECTED_GUARDS[(_status, A.PULL_UP)] = {Guard.IN_LOWER_JURISDICTION}
EXPECTED_GUARDS[(S.SUBMITTED, A.PULL_UP)] = {Guard.IN_LOWER_JURISDICTION}
for _status in (S.ACCEPTED, S.RETURNED):
    EXPECTED_GUARDS[(_status, A.SEND_DOWN)] = {Guard.HAS_LOWER_JURISDICTION}
# 属地管理: an office acts only on its own jurisdiction's cases. An upper office reads and
# supervises a lower office's case, and the one thing it does to it is take it over (上收).
# Departments (handlers) and the reporter are not offices: they are not bound by this rule.
OFFICES = frozenset({R.CLERK, R.DISPATCHER, R.SUPERVISOR, R.LEADER, R.ADMIN, R.CUSTODIAN})
for (_status, _action), _roles in EXPECTED.items():
    if _roles & OFFICES and _action != A.PULL_UP:
        EXPECTED_GUARDS.setdefault((_status, _action), set()).add(Guard.OWN_JURISDICTION)
GUARD_CASES = [(s, a, g) for (s, a), guards in EXPECTED_GUARDS.items() for g in sorted(guards)]


@pytest.mark.parametrize(("status", "action"), list(EXPECTED))
def test_each_move_depends_on_exactly_the_expected_facts(status, action):
    assert set(find_transition(action, status).guards) == EXPECTED_GUARDS.get((status, action), set())


@pytest.mark.parametrize(
    ("status", "action", "guard"), GUARD_CASES, ids=[f"{s}-{a}-needs-{g}" for s, a, g in GUARD_CASES]
)
def test_a_guarded_move_is_not_allowed_without_its_fact(status, action, guard):
    roles = EXPECTED[(status, action)]
    assert action in allowed_actions(status, roles, ALL_FACTS)
    assert action not in allowed_actions(status, roles, ALL_FACTS - {guard})


@pytest.mark.parametrize(("status", "action"), [key for key in EXPECTED if key not in EXPECTED_GUARDS])
def test_an_unguarded_move_needs_no_facts(status, action):
    assert action in allowed_actions(status, EXPECTED[(status, action)], set())


def test_only_the_lead_departments_handler_replies():
    co_handler = {Guard.ASSIGNED_TO_ACTOR, Guard.NO_PENDING_EXTENSION}
    lead = co_handler | {Guard.LEAD_IS_ACTOR, Guard.FINDING_RECORDED}
    assert A.REPLY not in allowed_actions(S.HANDLING, {R.HANDLER}, co_handler)
    assert A.REPLY in allowed_actions(S.HANDLING, {R.HANDLER}, lead)
    assert A.ADD_NOTE in allowed_actions(S.HANDLING, {R.HANDLER}, co_handler)


def test_a_handler_of_another_department_can_do_nothing_with_the_case():
    for status in Status:
        assert allowed_actions(status, {R.HANDLER}, {Guard.NO_PENDING_EXTENSION}) == []


def test_a_department_signs_only_once():
    signed = {Guard.ASSIGNED_TO_ACTOR, Guard.LEAD_IS_ACTOR, Guard.NO_PENDING_EXTENSION}
    assert A.SIGN not in allowed_actions(S.HANDLING, {R.HANDLER}, signed)
    assert A.SIGN in allowed_actions(S.HANDLING, {R.HANDLER}, signed | {Guard.UNSIGNED_FOR_ACTOR})


def test_one_extension_request_at_a_time():
    lead = {Guard.ASSIGNED_TO_ACTOR, Guard.LEAD_IS_ACTOR}
    pending = lead | {Guard.PENDING_EXTENSION}
    none_pending = lead | {Guard.NO_PENDING_EXTENSION}
    assert A.REQUEST_EXTENSION in allowed_actions(S.HANDLING, {R.HANDLER}, none_pending)
    assert A.REQUEST_EXTENSION not in allowed_actions(S.HANDLING, {R.HANDLER}, pending)
    supervisor_sees = allowed_actions(S.HANDLING, {R.SUPERVISOR}, pending | OWN_CASE)
    assert {A.APPROVE_EXTENSION, A.REFUSE_EXTENSION} <= set(supervisor_sees)
    nothing_to_decide = allowed_actions(S.HANDLING, {R.SUPERVISOR}, none_pending | OWN_CASE)
    assert not {A.APPROVE_EXTENSION, A.REFUSE_EXTENSION} & set(nothing_to_decide)


# The office's own jurisdiction's case (the facts of every office row).
OWN_CASE = {Guard.OWN_JURISDICTION}


def test_when_no_re_handling_is_left_an_unsatisfied_case_is_escalated_or_closed():
    facts = {Guard.HAS_HIGHER_LEVEL, Guard.NO_OPEN_RECTIFICATION} | OWN_CASE
    assert set(allowed_actions(S.UNSATISFIED, {R.SUPERVISOR}, facts)) == {A.ESCALATE, A.CLOSE}


def test_at_the_top_level_an_unsatisfied_case_can_only_be_re_handled_or_closed():
    facts = {Guard.REHANDLE_LEFT, Guard.NO_OPEN_RECTIFICATION} | OWN_CASE
    assert set(allowed_actions(S.UNSATISFIED, {R.SUPERVISOR}, facts)) == {A.REHANDLE, A.CLOSE}


def test_a_reply_to_a_complaint_or_report_waits_for_its_finding():
    lead = {Guard.ASSIGNED_TO_ACTOR, Guard.LEAD_IS_ACTOR}
    assert A.REPLY not in allowed_actions(S.HANDLING, {R.HANDLER}, lead)
    assert A.REPLY in allowed_actions(S.HANDLING, {R.HANDLER}, lead | {Guard.FINDING_RECORDED})


def test_an_unsatisfied_case_of_a_lower_office_can_also_be_referred_up():
    facts = {Guard.REHANDLE_LEFT, Guard.NO_OPEN_RECTIFICATION, Guard.HAS_PARENT_JURISDICTION} | OWN_CASE
    assert set(allowed_actions(S.UNSATISFIED, {R.SUPERVISOR}, facts)) == {A.REHANDLE, A.CLOSE, A.REFER_UP}


# --- across the levels of government ----------------------------------------------------------


@pytest.mark.parametrize("status", list(Status))
def test_an_upper_office_does_nothing_to_a_lower_offices_case_but_take_it_over(status):
    """It reads and supervises the case (the scope), but accepts, dispatches, decides or closes
    only once the case is its own."""
    lower_case = ALL_FACTS - {Guard.OWN_JURISDICTION}
    assert set(allowed_actions(status, OFFICES, lower_case)) <= {A.PULL_UP}


@pytest.mark.parametrize("status", list(Status))
def test_an_office_never_takes_over_its_own_or_an_upper_offices_case(status):
    not_below = ALL_FACTS - {Guard.IN_LOWER_JURISDICTION}
    assert A.PULL_UP not in allowed_actions(status, OFFICES, not_below)


def test_a_case_taken_over_before_acceptance_keeps_waiting_for_it():
    """上收 of a case not yet accepted leaves it to the upper office's clerk: the service keeps
    it submitted; any other case waits for dispatch there (the table leaves it to the service)."""
    assert find_transition(A.PULL_UP, S.SUBMITTED).target is None
    assert all(find_transition(A.PULL_UP, s).target is None for s in ON_THE_WAY)


def test_the_top_office_refers_nothing_up_and_the_bottom_one_sends_nothing_down():
    top = ALL_FACTS - {Guard.HAS_PARENT_JURISDICTION}
    bottom = ALL_FACTS - {Guard.HAS_LOWER_JURISDICTION}
    for status in Status:
        assert A.REFER_UP not in allowed_actions(status, OFFICES, top)
        assert A.SEND_DOWN not in allowed_actions(status, OFFICES, bottom)


def test_departments_and_reporters_are_not_bound_to_a_jurisdiction():
    for t in TRANSITIONS:
        if not t.roles & OFFICES:
            assert Guard.OWN_JURISDICTION not in t.guards, t


def test_no_case_closes_while_its_rectification_is_open():
    for status in (S.EVALUATED, S.UNSATISFIED):
        assert A.CLOSE not in allowed_actions(
            status, {R.SUPERVISOR}, ALL_FACTS - {Guard.NO_OPEN_RECTIFICATION}
        )


def test_every_action_has_its_service_form_and_label():
    """The litmus test of ARCHITECTURE.md: a new step is a row, a service, a form and a label."""
    import inspect

    from app.services.cases import ACTION_SERVICES
    from app.workflow import ACTION_LABELS
    from views.forms import ACTION_FIELDS, FIELDS, PARAM_NAMES

    for action in Action:
        assert action in ACTION_LABELS, action
        assert any(t.action == action for t in TRANSITIONS), action
        service = ACTION_SERVICES[action]
        assert "NotImplementedError" not in inspect.getsource(service), action
        parameters = inspect.signature(service).parameters
        for field in ACTION_FIELDS[action]:
            assert field in FIELDS, (action, field)
            assert PARAM_NAMES.get(field, field) in parameters, (action, field)
