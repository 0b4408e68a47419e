"""Per-level rules (issue 15): a jurisdiction's own setting, deadline policy, dispatch rule,
reward tier or working day wins, else its parent's, up to the rules of every jurisdiction and
the defaults; every deadline of a case uses the rules and the calendar of its jurisdiction.

The demo tree: 清源省 (QY) → 石门市 (SM) → 长河县 (CH), 东城区 (DC); 清源省 → 北岭市 (BL) → 西山县 (XS).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.clock import local_date
from app.demo import office_actors
from app.enums import CaseType, Urgency
from app.services import cases as svc
from app.services import levels_rules, sweep
from app.services.assessment import weights_from_settings
from app.services.calendar import apply_holiday_preset, load_calendar
from app.services.settings import clear_override, get_settings, set_override, settings_in_force
from app.workflow import Action
from models import CalendarDay, DeadlinePolicy, DispatchRule, Jurisdiction, RewardTier
from tests.conftest import at, login, visible_text
from tests.factories import file_case

REGIONS = {
    "QY": "清源省",
    "SM": "清源省/石门市",
    "CH": "清源省/石门市/长河县",
    "DC": "清源省/石门市/东城区",
    "BL": "清源省/北岭市",
    "XS": "清源省/北岭市/西山县",
}
# The department each office dispatches its test cases to (inside its own jurisdiction).
LEADS = {"QY": "P00", "SM": "C10", "CH": "X102", "DC": "X111", "BL": "C20", "XS": "X201"}
MONDAY = at("2026-11-02 09:00")  # Monday 2 November 2026, an ordinary week


@pytest.fixture
def places(session):
    return {j.code: j for j in session.query(Jurisdiction)}


@pytest.fixture
def offices(session, places):
    by_id = office_actors(session)
    return {code: by_id[j.id] for code, j in places.items()}


def file_in(session, offices, cats, code, *, now=MONDAY, **extra):
    """A case filed by the office of ``code`` for its own region."""
    case = file_case(session, {"clerk": offices[code]["clerk"]}, cats, now=now, region=REGIONS[code], **extra)
    assert case.jurisdiction.code == code
    return case


def dispatched_in(session, offices, cats, depts, code, *, now=MONDAY, **extra):
    """A case of ``code`` accepted and dispatched by its own office, 10 and 20 minutes after filing."""
    case = file_in(session, offices, cats, code, now=now, **extra)
    svc.perform(
        session, case.id, Action.ACCEPT, actor=offices[code]["clerk"], now=now + timedelta(minutes=10)
    )
    svc.perform(
        session,
        case.id,
        Action.DISPATCH,
        actor=offices[code]["dispatcher"],
        now=now + timedelta(minutes=20),
        lead_department_id=depts[LEADS[code]].id,
    )
    return case


def due_day(moment) -> date:
    return local_date(moment)


# --- settings: the nearest jurisdiction that sets a key wins ---------------------------------


def test_a_county_that_gives_departments_4_hours_to_sign_holds_its_cases_to_it(
    session, places, offices, cats, depts
):
    set_override(session, places["CH"].id, "sign_hours", 4)
    own = dispatched_in(session, offices, cats, depts, "CH")
    sibling = dispatched_in(session, offices, cats, depts, "DC")
    city = dispatched_in(session, offices, cats, depts, "SM")
    dispatched_at = MONDAY + timedelta(minutes=20)
    assert own.lead_assignment.sign_due_at == dispatched_at + timedelta(hours=4)
    assert sibling.lead_assignment.sign_due_at == dispatched_at + timedelta(hours=2)
    assert city.lead_assignment.sign_due_at == dispatched_at + timedelta(hours=2)


def test_a_citys_value_is_inherited_by_its_counties_unless_a_county_sets_its_own(session, places):
    set_override(session, places["SM"].id, "accept_working_days", 3)
    set_override(session, places["DC"].id, "accept_working_days", 8)
    days = {code: get_settings(session, places[code])["accept_working_days"] for code in REGIONS}
    assert days == {"QY": 5, "SM": 3, "CH": 3, "DC": 8, "BL": 5, "XS": 5}


def test_cases_take_the_acceptance_period_of_their_jurisdiction(session, places, offices, cats):
    set_override(session, places["SM"].id, "accept_working_days", 3)
    set_override(session, places["DC"].id, "accept_working_days", 8)
    due = {
        code: due_day(file_in(session, offices, cats, code).accept_due_at)
        for code in ("QY", "CH", "DC", "XS")
    }
    # Mon 2 Nov + 3 working days: Thu 5; + 5: Mon 9; + 8: Thu 12.
    assert due == {
        "QY": date(2026, 11, 9),
        "CH": date(2026, 11, 5),
        "DC": date(2026, 11, 12),
        "XS": date(2026, 11, 9),
    }


def test_clearing_a_countys_value_brings_back_its_parents(session, places):
    set_override(session, places["SM"].id, "accept_working_days", 3)
    set_override(session, places["CH"].id, "accept_working_days", 7)
    clear_override(session, places["CH"].id, "accept_working_days")
    assert get_settings(session, places["CH"])["accept_working_days"] == 3


def test_each_setting_says_where_its_value_comes_from(session, places):
    set_override(session, places["SM"].id, "accept_working_days", 3)
    set_override(session, places["CH"].id, "sign_hours", 4)
    found = {s.key: (s.value, s.source) for s in settings_in_force(session, places["CH"])}
    assert found["accept_working_days"] == (3, "石门市")
    assert found["sign_hours"] == (4, "长河县")
    assert found["dispatch_minutes"] == (20, "清源省")  # stored in the settings table: the province's
    assert found["due_soon_hours"][0] == 24


def test_the_root_keeps_its_values_in_the_settings_table_not_as_an_override(session, places):
    from app.errors import Invalid

    with pytest.raises(Invalid):
        set_override(session, places["QY"].id, "sign_hours", 4)


@pytest.mark.parametrize(
    "key, value",
    [("sign_hours", -1), ("sample_percent", 101), ("no_such_setting", 1), ("sign_hours", "two")],
)
def test_an_override_outside_the_rulebook_is_refused_with_a_message(session, places, key, value):
    from app.errors import Invalid

    with pytest.raises(Invalid):
        set_override(session, places["CH"].id, key, value)


def test_a_county_cannot_set_every_assessment_weight_to_zero(session, places):
    from app.errors import Invalid
    from app.services.settings import RATE_WEIGHTS

    for key in RATE_WEIGHTS[:-1]:
        set_override(session, places["CH"].id, key, 0)
    with pytest.raises(Invalid):
        set_override(session, places["CH"].id, RATE_WEIGHTS[-1], 0)


def test_assessment_weights_follow_the_jurisdiction(session, places):
    set_override(session, places["SM"].id, "assessment_weight_on_time", 50)
    assert (
        weights_from_settings(session, places["CH"])["on_time"]
        == weights_from_settings(session, places["SM"])["on_time"]
    )
    assert weights_from_settings(session, places["CH"]) != weights_from_settings(session)
    assert weights_from_settings(session, places["XS"]) == weights_from_settings(session)


# --- deadline policies -----------------------------------------------------------------------


def test_a_county_policy_of_7_working_days_for_complaints_applies_to_its_cases_only(
    session, places, offices, cats, depts
):
    session.add(DeadlinePolicy(case_type=CaseType.COMPLAINT, working_days=7, jurisdiction_id=places["CH"].id))
    session.flush()
    due = {
        code: due_day(dispatched_in(session, offices, cats, depts, code, case_type="complaint").due_at)
        for code in ("CH", "DC", "SM")
    }
    # Filed Monday 2 November: 7 working days end on Wed 11 November, 10 on Mon 16 November.
    assert due == {"CH": date(2026, 11, 11), "DC": date(2026, 11, 16), "SM": date(2026, 11, 16)}


def test_a_city_policy_is_inherited_by_its_counties_and_a_county_policy_beats_it(session, places):
    session.add_all(
        [
            DeadlinePolicy(case_type=CaseType.HELP, working_days=4, jurisdiction_id=places["SM"].id),
            DeadlinePolicy(case_type=CaseType.HELP, working_days=2, jurisdiction_id=places["DC"].id),
        ]
    )
    session.flush()

    def help_days(code):
        from app.deadlines import select_policy

        policies = levels_rules.deadline_policies(session, places[code])
        return select_policy(policies, CaseType.HELP, Urgency.NORMAL, False).working_days

    assert {code: help_days(code) for code in ("QY", "SM", "CH", "DC", "XS")} == {
        "QY": 5,
        "SM": 4,
        "CH": 4,
        "DC": 2,
        "XS": 5,
    }


def test_a_policy_of_another_branch_of_the_tree_is_not_seen(session, places):
    session.add(
        DeadlinePolicy(case_type=CaseType.CONSULTATION, working_days=1, jurisdiction_id=places["XS"].id)
    )
    session.flush()
    assert places["XS"].id in {p.jurisdiction_id for p in levels_rules.policy_rows(session, places["XS"])}
    assert places["XS"].id not in {p.jurisdiction_id for p in levels_rules.policy_rows(session, places["CH"])}


# --- dispatch rules: among equally specific rules the nearer jurisdiction's wins --------------


def test_a_nearer_offices_dispatch_rule_beats_a_farther_one_of_equal_specificity(
    session, places, offices, cats, depts
):
    county = "清源省/石门市/长河县"
    gov02 = cats["GOV02"]
    session.add_all(
        [
            # the same criteria (category and region): only where each was set differs
            DispatchRule(category=gov02, region=county, department=depts["X103"], priority=9),
            DispatchRule(
                category=gov02, region=county, department=depts["X102"], jurisdiction_id=places["SM"].id
            ),
            # a sibling county's rule is not the case's rule at all, whatever its priority
            DispatchRule(
                category=gov02,
                region=county,
                department=depts["X101"],
                priority=99,
                jurisdiction_id=places["DC"].id,
            ),
        ]
    )
    session.flush()
    case = file_in(session, offices, cats, "CH", category="GOV02")
    assert svc.propose_department(session, case) == depts["X102"]  # the city's, over every jurisdiction's

    session.add(
        DispatchRule(category=gov02, region=county, department=depts["X101"], jurisdiction_id=places["CH"].id)
    )
    session.flush()
    assert svc.propose_department(session, case) == depts["X101"]  # the county's own, over the city's


def test_a_more_specific_rule_still_beats_a_nearer_less_specific_one(session, places, offices, cats, depts):
    session.add_all(
        [
            DispatchRule(category=cats["GOV02"], region="清源省/石门市/长河县", department=depts["X103"]),
            DispatchRule(category=cats["GOV02"], department=depts["X102"], jurisdiction_id=places["CH"].id),
        ]
    )
    session.flush()
    case = file_in(session, offices, cats, "CH", category="GOV02")
    assert svc.propose_department(session, case) == depts["X103"]


# --- reward tiers ----------------------------------------------------------------------------


def test_a_jurisdictions_tier_of_a_code_replaces_the_inherited_one(session, places):
    general = (
        session.query(RewardTier)
        .filter(RewardTier.jurisdiction_id.is_(None))
        .order_by(RewardTier.code)
        .first()
    )
    own = RewardTier(
        code=general.code,
        name="长河县" + general.name,
        min_yuan=50,
        max_yuan=80,
        jurisdiction_id=places["CH"].id,
    )
    session.add(own)
    session.flush()
    by_code = {
        code: {t.code: t for t in levels_rules.reward_tiers(session, places[code])} for code in ("CH", "DC")
    }
    assert by_code["CH"][general.code] == own
    assert by_code["DC"][general.code] == general
    assert len(by_code["CH"]) == len(by_code["DC"])


def test_an_inactive_tier_of_a_jurisdiction_withdraws_the_code_there(session, places):
    general = (
        session.query(RewardTier)
        .filter(RewardTier.jurisdiction_id.is_(None))
        .order_by(RewardTier.code)
        .first()
    )
    session.add(
        RewardTier(
            code=general.code,
            name="停用",
            min_yuan=1,
            max_yuan=1,
            active=False,
            jurisdiction_id=places["SM"].id,
        )
    )
    session.flush()
    assert general.code not in {t.code for t in levels_rules.reward_tiers(session, places["CH"])}
    assert general.code in {t.code for t in levels_rules.reward_tiers(session, places["BL"])}


# --- regional working days -------------------------------------------------------------------


def test_guangxis_sanyuesan_in_a_countys_calendar_moves_a_deadline_the_provinces_does_not(
    session, places, offices, cats
):
    # 北岭市 stands for a city of Guangxi here: 西山县 below it keeps the city's regional days.
    assert apply_holiday_preset(session, "guangxi-sanyuesan", places["BL"], [2026]) == 2
    friday = at("2026-04-17 09:00")
    county = file_in(session, offices, cats, "XS", now=friday)
    province = file_in(session, offices, cats, "QY", now=friday)
    # 5 working days from Fri 17 April: the province counts Mon 20 to Fri 24; Mon 20 April
    # (农历三月初四) is 西山县's holiday, so its count ends on Mon 27.
    assert due_day(province.accept_due_at) == date(2026, 4, 24)
    assert due_day(county.accept_due_at) == date(2026, 4, 27)


def test_sanyuesan_on_a_sunday_is_not_made_up(session, places):
    apply_holiday_preset(session, "guangxi-sanyuesan", places["BL"], [2026])
    days = session.query(CalendarDay).filter_by(jurisdiction_id=places["BL"].id).all()
    assert sorted((d.day, d.kind) for d in days) == [
        (date(2026, 4, 19), "holiday"),
        (date(2026, 4, 20), "holiday"),
    ]
    assert not load_calendar(session, places["XS"]).is_workday(date(2026, 4, 20))
    assert load_calendar(session, places["XS"]).is_workday(date(2026, 4, 21))  # nothing added after it


def test_applying_a_preset_twice_adds_nothing_the_second_time(session, places):
    assert apply_holiday_preset(session, "xinjiang-kurban", places["XS"], [2025, 2026]) == 6
    assert apply_holiday_preset(session, "xinjiang-kurban", places["XS"], [2026]) == 0


@pytest.mark.parametrize(
    "preset, years",
    [("no-such-holiday", [2026]), ("tibet-losar", [2031]), ("tibet-losar", []), ("guangxi-sanyuesan", ["x"])],
)
def test_a_preset_that_cannot_be_applied_is_refused_with_a_message(session, places, preset, years):
    from app.errors import Invalid

    with pytest.raises(Invalid):
        apply_holiday_preset(session, preset, places["XS"], years)


def test_a_regional_make_up_workday_counts_in_that_jurisdiction_only(session, places, offices, cats):
    session.add(
        CalendarDay(day=date(2026, 11, 7), kind="workday", name="调休上班", jurisdiction_id=places["CH"].id)
    )
    session.flush()
    friday = at("2026-11-06 09:00")
    own = file_in(session, offices, cats, "CH", now=friday)
    sibling = file_in(session, offices, cats, "DC", now=friday)
    # 5 working days from Fri 6 November: Sat 7 is worked in 长河县, so its count ends a day early.
    assert due_day(own.accept_due_at) == date(2026, 11, 12)
    assert due_day(sibling.accept_due_at) == date(2026, 11, 13)


def test_a_nearer_jurisdictions_day_overrides_the_one_it_inherits(session, places):
    saturday = date(2026, 11, 14)
    session.add_all(
        [
            CalendarDay(day=saturday, kind="workday", name="调休上班", jurisdiction_id=places["SM"].id),
            CalendarDay(day=saturday, kind="holiday", name="县庆", jurisdiction_id=places["DC"].id),
        ]
    )
    session.flush()
    assert load_calendar(session, places["CH"]).is_workday(saturday)
    assert not load_calendar(session, places["DC"]).is_workday(saturday)
    assert not load_calendar(session, places["QY"]).is_workday(saturday)


# --- the sweep holds each case to its jurisdiction's settings --------------------------------


def test_the_sweep_warns_of_a_due_deadline_within_the_window_of_the_cases_jurisdiction(
    session, places, offices, cats, depts
):
    set_override(session, places["CH"].id, "due_soon_hours", 72)
    own = dispatched_in(session, offices, cats, depts, "CH", case_type="consultation")
    sibling = dispatched_in(session, offices, cats, depts, "DC", case_type="consultation")
    assert own.lead_assignment.due_at == sibling.lead_assignment.due_at
    now = own.lead_assignment.due_at - timedelta(hours=48)  # inside 72 hours, outside 24
    sweep.run_sweep(session, now)
    assert own.lead_assignment.due_soon_notified_at == now
    assert sibling.lead_assignment.due_soon_notified_at is None


# --- the screens: a regional day, and where each rule comes from ------------------------------


def _rows(html: str) -> list[list[str]]:
    return [
        [visible_text(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    ]


def test_the_effective_rules_page_names_the_jurisdiction_each_value_comes_from(app, session, places):
    set_override(session, places["SM"].id, "accept_working_days", 3)
    set_override(session, places["CH"].id, "sign_hours", 4)
    session.add(DeadlinePolicy(case_type=CaseType.COMPLAINT, working_days=7, jurisdiction_id=places["CH"].id))
    session.commit()
    client = login(app.test_client(), "admin")
    response = client.get(f"/rules/effective/?jurisdiction={places['CH'].id}")
    assert response.status_code == 200
    rows = _rows(response.get_data(as_text=True))
    assert [r[1] for r in rows if r and r[-1] == "石门市"] == ["3"]  # only accept_working_days
    assert ["4"] == [r[1] for r in rows if len(r) == 3 and r[-1] == "长河县"]  # sign_hours, its own
    assert any(r[3] == "7" and r[-1] == "长河县" for r in rows if len(r) == 6)  # the policy
    assert any(r and r[-1] == "清源省" for r in rows)  # the settings table's values: the province's


def test_an_administrator_sets_and_clears_a_countys_own_value_on_its_screen(app, session, places):
    client = login(app.test_client(), "admin")
    page = client.get("/rules/settings/")
    assert page.status_code == 200
    response = client.post(
        "/rules/settings/set", data={"jurisdiction_id": places["CH"].id, "key": "sign_hours", "value": "4"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert get_settings(session, places["CH"])["sign_hours"] == 4
    refused = client.post(
        "/rules/settings/set",
        data={"jurisdiction_id": places["CH"].id, "key": "sign_hours", "value": "-3"},
        follow_redirects=True,
    )
    assert refused.status_code == 200 and "-3" not in visible_text(refused.get_data(as_text=True)).split()
    client.post("/rules/settings/clear", data={"jurisdiction_id": places["CH"].id, "key": "sign_hours"})
    session.expire_all()
    assert get_settings(session, places["CH"])["sign_hours"] == 2


def test_editing_a_regional_day_recomputes_the_open_cases_of_that_subtree_only(
    app, session, places, offices, cats
):
    friday = at("2026-11-06 09:00")
    county = file_in(session, offices, cats, "CH", now=friday)
    sibling = file_in(session, offices, cats, "DC", now=friday)
    city = file_in(session, offices, cats, "SM", now=friday)
    # a deadline nobody recomputes keeps whatever it holds: mark the sibling's and the city's
    stale = at("2030-01-01 00:00")
    sibling.accept_due_at = city.accept_due_at = stale
    session.commit()
    client = login(app.test_client(), "admin")
    response = client.post(
        "/calendardayview/add",
        data={
            "day": "2026-11-10",
            "kind": "holiday",
            "name": "县庆",
            "jurisdiction_id": str(places["CH"].id),
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert due_day(county.accept_due_at) == date(2026, 11, 16)  # Tue 10 November off: one more day
    assert sibling.accept_due_at == stale and city.accept_due_at == stale


def test_the_calendar_list_names_the_state_council_for_a_national_day(app, session, places):
    session.add(
        CalendarDay(day=date(2026, 11, 10), kind="holiday", name="县庆", jurisdiction_id=places["CH"].id)
    )
    session.commit()
    client = login(app.test_client(), "admin")
    text = visible_text(client.get("/calendardayview/list/?psize_CalendarDayView=100").get_data(as_text=True))
    assert "长河县" in text
    assert "国务院" in text or "State Council" in text


def test_the_holiday_preset_screen_applies_a_preset_to_a_jurisdiction(app, session, places):
    client = login(app.test_client(), "admin")
    assert client.get(f"/rules/holidays/?jurisdiction={places['XS'].id}").status_code == 200
    response = client.post(
        "/rules/holidays/apply",
        data={"preset": "xinjiang-kurban", "jurisdiction_id": str(places["XS"].id), "years": "2025 2026"},
    )
    assert response.status_code == 302
    session.expire_all()
    days = {d.day for d in session.query(CalendarDay).filter_by(jurisdiction_id=places["XS"].id)}
    assert {date(2025, 6, 6), date(2025, 6, 9), date(2025, 6, 10)} <= days
    refused = client.post(
        "/rules/holidays/apply",
        data={"preset": "xinjiang-kurban", "jurisdiction_id": str(places["XS"].id), "years": "1800"},
        follow_redirects=True,
    )
    assert refused.status_code == 200


@pytest.mark.parametrize("path", ["/rules/effective/", "/rules/settings/", "/rules/holidays/"])
def test_the_rules_screens_are_the_administrators_only(app, path):
    client = login(app.test_client(), "ch_supervisor")
    assert client.get(path).status_code in (302, 403)


def test_the_holidays_command_adds_a_preset_to_a_jurisdiction_by_its_code(app, session, places):
    result = app.test_cli_runner().invoke(args=["ys", "holidays", "tibet-losar", "XS", "2025"])
    assert result.exit_code == 0, result.output
    assert "4" in result.output
    unknown = app.test_cli_runner().invoke(args=["ys", "holidays", "tibet-losar", "NOPE", "2025"])
    assert unknown.exit_code != 0 and "NOPE" in unknown.output
