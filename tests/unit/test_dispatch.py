"""Dispatch proposals (DOMAIN.md, "Dispatch"): a rule table (category, region, keywords →
department) proposes the department; the most specific rule wins, ties go to the higher priority
and then the lower rule id, and a department the case accuses is never proposed."""

from __future__ import annotations

import pytest

from app.dispatch import CaseFacts, Rule, parse_keywords, propose_department

# A small category tree: 市场监管 (market supervision) > 价格 (prices); 住建 (housing) elsewhere.
MARKET, PRICES, HOUSING = 10, 11, 20
# Departments.
MARKET_BUREAU, PRICE_OFFICE, HOUSING_BUREAU, CITY_MARKET, COUNTY_MARKET, DISTRICT_MARKET = range(101, 107)

# A price complaint from a district of Shijiazhuang (130102), Hebei (13).
PRICE_CASE = CaseFacts(category_path=[PRICES, MARKET], region="130102", text="某超市拖欠工程款并且乱收费")


def proposed(rules, facts=PRICE_CASE, excluded=()):
    rule = propose_department(rules, facts, excluded)
    return None if rule is None else rule.department_id


def test_a_rule_for_the_category_and_region_beats_one_for_the_category_alone():
    rules = [
        Rule(1, MARKET_BUREAU, category_id=PRICES, priority=9),
        Rule(2, CITY_MARKET, category_id=PRICES, region="1301"),
    ]
    assert proposed(rules) == CITY_MARKET


def test_a_rule_for_the_cases_own_subcategory_beats_one_for_its_parent_category():
    rules = [
        Rule(1, MARKET_BUREAU, category_id=MARKET, priority=9),
        Rule(2, PRICE_OFFICE, category_id=PRICES),
    ]
    assert proposed(rules) == PRICE_OFFICE


def test_a_rule_for_the_parent_category_applies_to_cases_of_its_subcategories():
    rules = [
        Rule(1, MARKET_BUREAU, category_id=MARKET),
        Rule(2, HOUSING_BUREAU, category_id=HOUSING),
    ]
    assert proposed(rules) == MARKET_BUREAU


def test_the_longer_region_prefix_wins():
    rules = [
        Rule(1, COUNTY_MARKET, category_id=PRICES, region="13", priority=9),
        Rule(2, DISTRICT_MARKET, category_id=PRICES, region="130102"),
        Rule(3, CITY_MARKET, category_id=PRICES, region="1301"),
    ]
    assert proposed(rules) == DISTRICT_MARKET


def test_a_rule_for_another_region_does_not_match():
    rules = [Rule(1, CITY_MARKET, region="1302")]
    assert proposed(rules) is None


def test_a_rule_for_another_category_does_not_match():
    rules = [Rule(1, HOUSING_BUREAU, category_id=HOUSING)]
    assert proposed(rules) is None


def test_a_keyword_rule_matches_when_a_keyword_occurs_in_the_text():
    rules = [Rule(1, HOUSING_BUREAU, keywords=("欠薪", "拖欠工程款"))]
    assert proposed(rules) == HOUSING_BUREAU


def test_a_keyword_rule_does_not_match_when_no_keyword_occurs_in_the_text():
    rules = [Rule(1, HOUSING_BUREAU, keywords=("欠薪", "违建"))]
    assert proposed(rules) is None


def test_a_keyword_rule_for_the_category_beats_the_category_rule_alone():
    rules = [
        Rule(1, MARKET_BUREAU, category_id=PRICES, priority=9),
        Rule(2, PRICE_OFFICE, category_id=PRICES, keywords=("乱收费",)),
    ]
    assert proposed(rules) == PRICE_OFFICE


def test_a_rule_without_criteria_is_the_fallback_for_any_case():
    fallback = Rule(1, MARKET_BUREAU, priority=9)
    assert proposed([fallback, Rule(2, PRICE_OFFICE, category_id=PRICES)]) == PRICE_OFFICE
    assert proposed([fallback, Rule(2, HOUSING_BUREAU, category_id=HOUSING)]) == MARKET_BUREAU


def test_among_equally_specific_rules_the_higher_priority_wins():
    rules = [
        Rule(1, MARKET_BUREAU, category_id=PRICES, priority=1),
        Rule(2, PRICE_OFFICE, category_id=PRICES, priority=5),
    ]
    assert proposed(rules) == PRICE_OFFICE
    assert proposed(rules[::-1]) == PRICE_OFFICE


def test_among_equally_specific_rules_of_equal_priority_the_lower_id_wins_in_any_order():
    rules = [
        Rule(7, MARKET_BUREAU, category_id=PRICES),
        Rule(3, PRICE_OFFICE, category_id=PRICES),
        Rule(5, CITY_MARKET, category_id=PRICES),
    ]
    assert proposed(rules) == PRICE_OFFICE
    assert proposed(rules[::-1]) == PRICE_OFFICE
    assert proposed(sorted(rules, key=lambda r: r.department_id)) == PRICE_OFFICE


def test_an_accused_department_is_never_proposed_and_the_next_best_rule_wins():
    rules = [
        Rule(1, DISTRICT_MARKET, category_id=PRICES, region="130102"),
        Rule(2, CITY_MARKET, category_id=PRICES, region="1301"),
        Rule(3, MARKET_BUREAU, category_id=MARKET),
    ]
    assert proposed(rules) == DISTRICT_MARKET
    assert proposed(rules, excluded={DISTRICT_MARKET}) == CITY_MARKET
    assert proposed(rules, excluded={DISTRICT_MARKET, CITY_MARKET}) == MARKET_BUREAU


def test_when_every_matching_rule_points_at_an_excluded_department_nothing_is_proposed():
    rules = [Rule(1, DISTRICT_MARKET, category_id=PRICES)]
    assert proposed(rules, excluded=[DISTRICT_MARKET]) is None


def test_no_matching_rule_proposes_nothing():
    assert proposed([]) is None
    assert proposed([Rule(1, HOUSING_BUREAU, category_id=HOUSING, region="13")]) is None


def test_the_winning_rule_is_returned_so_the_dispatcher_can_see_why():
    rule = Rule(4, PRICE_OFFICE, category_id=PRICES)
    assert propose_department([rule], PRICE_CASE) is rule


# --- keyword lists as an administrator types them --------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "欠薪,违建,乱收费",
        "欠薪，违建，乱收费",
        "欠薪、违建、乱收费",
        "欠薪;违建；乱收费",
        "欠薪 违建  乱收费",
        " 欠薪 ，、违建;;\n乱收费 ,",
    ],
)
def test_keywords_split_on_chinese_and_ascii_commas_enumeration_commas_semicolons_and_spaces(raw):
    assert parse_keywords(raw) == ("欠薪", "违建", "乱收费")


def test_keywords_split_on_the_full_width_space_of_chinese_input():
    assert parse_keywords("欠薪\u3000违建") == ("欠薪", "违建")


@pytest.mark.parametrize("raw", [None, "", "  ", "，、；"])
def test_an_empty_keyword_list_has_no_keywords(raw):
    assert parse_keywords(raw) == ()


def test_parsed_keywords_drive_matching():
    rule = Rule(1, HOUSING_BUREAU, keywords=parse_keywords("违建，拖欠工程款"))
    assert proposed([rule]) == HOUSING_BUREAU


# --- jurisdictions: a case sees the rules of its chain; the nearer office's rule wins a tie ----
# nearness: 0 for a rule of every jurisdiction, then the depth of the jurisdiction that set it.


def test_between_rules_equally_specific_the_nearer_jurisdictions_wins_over_priority():
    rules = [
        Rule(1, MARKET_BUREAU, category_id=PRICES, priority=9, nearness=0),  # every jurisdiction's
        Rule(2, CITY_MARKET, category_id=PRICES, nearness=2),  # the city's
    ]
    assert proposed(rules) == CITY_MARKET


def test_the_countys_own_rule_beats_its_citys():
    rules = [
        Rule(1, CITY_MARKET, category_id=PRICES, nearness=2),
        Rule(2, COUNTY_MARKET, category_id=PRICES, nearness=3),
    ]
    assert proposed(rules) == COUNTY_MARKET


def test_a_more_specific_rule_of_a_farther_jurisdiction_beats_a_nearer_vaguer_one():
    rules = [
        Rule(1, DISTRICT_MARKET, category_id=PRICES, region="130102", nearness=0),
        Rule(2, COUNTY_MARKET, category_id=PRICES, nearness=3),
    ]
    assert proposed(rules) == DISTRICT_MARKET


def test_rules_of_one_jurisdiction_equally_specific_still_go_by_priority_then_id():
    rules = [
        Rule(3, CITY_MARKET, category_id=PRICES, priority=1, nearness=2),
        Rule(1, COUNTY_MARKET, category_id=PRICES, priority=1, nearness=2),
        Rule(2, MARKET_BUREAU, category_id=PRICES, priority=0, nearness=2),
    ]
    assert proposed(rules) == COUNTY_MARKET
