"""Similar open cases at intake (app/similarity.py): a candidate sharing a party with the new case
(same credit code, same company name, or same department concerned) is shown when its text is
similar; one sharing no party only when its text is nearly the same and it comes from the same
prefecture. Best first, ties to the lower id, never the case itself."""

from __future__ import annotations

import random
import time

import pytest

from app.similarity import (
    CROSS_PARTY_THRESHOLD,
    DEFAULT_THRESHOLD,
    CaseText,
    find_similar,
    normalise_company,
    normalise_credit_code,
    same_party,
    text_similarity,
    tokens,
)

# Unified social credit codes (valid GB 32100 check digits) and departments concerned.
SHIFAN_CODE = "91130102MA0CKH7T3L"  # 石门市示范科技有限公司
HENGTAI_CODE = "91130104MA0D2LQ85A"  # 石门市恒泰建筑工程有限公司
APPROVAL_BUREAU, HOUSING_BUREAU, MARKET_BUREAU = 7, 8, 9  # 区行政审批局, 区住建局, 市场监管局
DISTRICT, OTHER_DISTRICT_SAME_CITY, OTHER_CITY = "130102", "130104", "130702"

# The new case: a tech company's licence change stuck at the approval bureau.
LICENCE = CaseText(
    id=100,
    title="区行政审批局办理营业执照变更推诿扯皮",
    content="我公司于2024年3月15日向区行政审批局提交营业执照经营范围变更申请，材料齐全，窗口工作人员以各种"
    "理由推诿扯皮，要求我们找指定的中介机构代办，并暗示需要支付5000元“加急费”。至今两个多月营业执照变更"
    "仍未办结，严重影响公司参加投标。请求尽快处理。",
    company="石门市示范科技有限公司",
    credit_code=SHIFAN_CODE,
    department_id=APPROVAL_BUREAU,
    region=DISTRICT,
)

# The same matter told by another employee of the same company, who writes the name differently
# and does not name the department: only the credit code links them.
LICENCE_RETOLD = CaseText(
    id=101,
    title="营业执照变更两个多月办不下来",
    content="本人是示范科技的行政人员，三月中旬我们去区审批局窗口申请变更营业执照经营范围，资料都交齐了，工作"
    "人员一会说缺材料一会说系统有问题，互相推诿扯皮，还让我们去找他们指定的中介机构，说交5000块加急费就能"
    "马上办。到现在营业执照还没变更好，公司没法参加投标。",
    company="示范科技",
    credit_code=SHIFAN_CODE,
    region=DISTRICT,
)

# Another business, same department concerned, a similar story.
SAME_BUREAU = CaseText(
    id=102,
    title="行政审批局窗口指定中介机构代办营业执照",
    content="我们是新开的餐饮店，2024年4月到区行政审批局办理营业执照，窗口工作人员说材料不合格，让我们找他们"
    "推荐的中介机构代办，中介收费3000元后第二天就办好了。窗口吃拿卡要、推诿扯皮，变相指定中介，希望查处。",
    company="石门市味道餐饮店",
    department_id=APPROVAL_BUREAU,
    region=DISTRICT,
)

# A construction company's unpaid bill, same district: nothing in common with LICENCE.
UNPAID_WORKS = CaseText(
    id=103,
    title="区住建局拖欠老旧小区改造工程款",
    content="我公司2022年承建了区老旧小区改造项目，工程已于2022年底竣工验收合格，合同约定验收后三个月内支付"
    "尾款186万元，区住建局至今拖欠，多次催要均以财政资金紧张为由推脱，企业资金链已经断裂，工人工资发不出来。",
    company="石门市恒泰建筑工程有限公司",
    credit_code=HENGTAI_CODE,
    department_id=HOUSING_BUREAU,
    region=DISTRICT,
)

# A shop fined again and again by market supervision, same district.
REPEATED_FINES = CaseText(
    id=104,
    title="市场监管局重复检查以罚代管",
    content="今年以来市场监管局执法人员对我店进行了六次检查，每次检查内容都一样，上个月因为价签字体不规范罚款"
    "2万元，执法人员不讲解整改要求，只罚款不指导，以罚代管，严重影响正常经营。",
    company="石门市好邻居便利店",
    department_id=MARKET_BUREAU,
    region=DISTRICT,
)


def case(id: int, like: CaseText, **changes) -> CaseText:
    """A copy of ``like`` under another id; by default with no party at all (anonymous)."""
    fields = {"company": None, "credit_code": None, "department_id": None, "region": like.region}
    fields.update(changes)
    return CaseText(id=id, title=like.title, content=like.content, **fields)


def ids(results: list[tuple[int, float]]) -> list[int]:
    return [case_id for case_id, _ in results]


# --- tokens ------------------------------------------------------------------------------------


def test_tokens_keep_domain_terms_whole_and_drop_function_words():
    words = tokens("我们去办理营业执照，窗口的人吃拿卡要、推诿扯皮了，还要我们找中介机构交配套费。")
    assert {"营业执照", "吃拿卡要", "推诿扯皮", "中介机构", "配套费", "办理", "窗口"} <= words
    assert not {"的", "了", "我们", "还", "要", "，", "、", "。"} & words
    assert not {"营业", "执照", "吃", "推诿", "扯皮", "中介", "配套"} & words


@pytest.mark.parametrize("term", ["施工许可", "社会信用代码", "行政审批局", "市场监管局"])
def test_tokens_keep_the_other_listed_domain_terms_whole(term):
    assert term in tokens(f"关于{term}的问题")


def test_tokens_keep_numbers_and_the_words_of_the_trade():
    words = tokens("被罚款2万元，拖欠工程款128.5万元，审批收费不合理。")
    assert {"罚款", "2", "万元", "工程款", "128.5", "审批", "收费"} <= words


def test_tokens_fold_full_width_and_case():
    assert tokens("ＡＢＣ科技２０２４年") == tokens("abc科技2024年")
    assert {"abc", "2024"} <= tokens("ＡＢＣ科技２０２４年")


def test_tokens_drop_filler_of_complaints_and_meaningless_single_characters():
    words = tokens("请求相关部门尽快解决，目前问题至今没有处理，现反映情况如下：一直不给办。")
    assert words == frozenset()


def test_tokens_of_nothing_are_empty():
    assert tokens("") == frozenset()
    assert tokens(" \n\u3000，。！？……") == frozenset()


def test_tokens_are_cached_per_text():
    text = "施工许可证办理超过法定时限"
    assert tokens(text) is tokens(text)


# --- text similarity ---------------------------------------------------------------------------


def test_identical_text_scores_one_and_the_score_is_symmetric():
    assert text_similarity(LICENCE, case(1, LICENCE)) == 1.0
    assert text_similarity(LICENCE, LICENCE_RETOLD) == text_similarity(LICENCE_RETOLD, LICENCE)


def test_the_same_matter_retold_scores_above_the_threshold_and_unrelated_ones_far_below():
    assert text_similarity(LICENCE, LICENCE_RETOLD) >= 0.5
    assert text_similarity(LICENCE, SAME_BUREAU) >= 0.4
    assert text_similarity(LICENCE, UNPAID_WORKS) < 0.1
    assert text_similarity(LICENCE, REPEATED_FINES) < 0.1


def test_title_words_weigh_more_than_content_words():
    target = CaseText(1, "施工许可证迟迟不发", "项目手续齐全，开工日期一再推迟。")
    in_title = CaseText(2, "施工许可证迟迟不发", "厂房扩建项目资金到位，设备已经采购。")
    in_content = CaseText(3, "厂房扩建项目资金到位", "施工许可证迟迟不发，设备已经采购。")
    assert text_similarity(target, in_title) > text_similarity(target, in_content) > 0


def test_text_without_meaningful_words_scores_zero():
    assert text_similarity(CaseText(1, "", ""), CaseText(2, "", "")) == 0.0
    assert text_similarity(LICENCE, CaseText(2, "问题", "请尽快解决。")) == 0.0


# --- parties -----------------------------------------------------------------------------------


def test_company_names_match_across_legal_form_width_and_spaces():
    assert normalise_company("石门市示范科技有限公司") == normalise_company("石门市示范科技有限责任公司 ")
    assert normalise_company("石门市示范科技有限公司") == normalise_company("石门市 示范科技股份有限公司")
    assert normalise_company("ＡＢＣ（石门）科技有限公司") == normalise_company("abc(石门)科技有限公司")


def test_different_companies_do_not_match():
    assert normalise_company("石门市示范科技有限公司") != normalise_company("石门市示范建材有限公司")
    branch = "石门市示范科技有限公司石门分公司"
    assert normalise_company("石门市示范科技有限公司") != normalise_company(branch)


@pytest.mark.parametrize("name", [None, "", "  ", "无", "个人", "公司", "有限公司", "股份有限公司"])
def test_a_name_that_names_no_company_is_none(name):
    assert normalise_company(name) is None


def test_credit_codes_are_compared_in_their_18_character_form():
    assert normalise_credit_code(" 91130102ma0ckh7t3l ") == SHIFAN_CODE
    assert normalise_credit_code("９１１３０１０２ＭＡ０ＣＫＨ７Ｔ３Ｌ") == SHIFAN_CODE
    assert normalise_credit_code("911301") is None  # too short
    assert normalise_credit_code("000000000000000000") is None  # placeholder
    assert normalise_credit_code(None) is None


def test_same_party_by_credit_code_company_name_or_department():
    tech = CaseText(1, "", "", company="石门市示范科技有限公司")
    assert same_party(tech, CaseText(2, "", "", company="石门市示范科技有限责任公司 "))
    assert not same_party(tech, CaseText(3, "", "", company="石门市恒泰建筑工程有限公司"))
    assert same_party(
        CaseText(4, "", "", credit_code=SHIFAN_CODE), CaseText(5, "", "", credit_code=SHIFAN_CODE)
    )
    assert not same_party(
        CaseText(4, "", "", credit_code=SHIFAN_CODE), CaseText(6, "", "", credit_code=HENGTAI_CODE)
    )
    assert same_party(CaseText(7, "", "", department_id=8), CaseText(8, "", "", department_id=8))
    assert not same_party(CaseText(7, "", "", department_id=8), CaseText(9, "", "", department_id=9))


def test_unknown_parties_never_match_each_other():
    assert not same_party(CaseText(1, "", ""), CaseText(2, "", ""))
    assert not same_party(CaseText(1, "", "", company="无"), CaseText(2, "", "", company="无"))
    assert not same_party(CaseText(1, "", "", company="有限公司"), CaseText(2, "", "", company="公司"))


# --- find_similar ------------------------------------------------------------------------------


def test_the_same_complaint_retold_by_another_employee_is_found_by_credit_code():
    assert not same_party(
        CaseText(1, "", "", company=LICENCE.company), CaseText(2, "", "", company=LICENCE_RETOLD.company)
    )  # the names differ: the code is the link
    assert ids(find_similar(LICENCE, [LICENCE_RETOLD])) == [LICENCE_RETOLD.id]


def test_a_similar_complaint_about_the_same_department_is_found():
    assert ids(find_similar(LICENCE, [SAME_BUREAU])) == [SAME_BUREAU.id]


def test_the_same_similar_complaint_without_a_shared_party_is_not_found():
    stranger = case(200, SAME_BUREAU, company="石门市味道餐饮店", department_id=HOUSING_BUREAU)
    assert DEFAULT_THRESHOLD <= text_similarity(LICENCE, stranger) < CROSS_PARTY_THRESHOLD
    assert find_similar(LICENCE, [stranger]) == []


def test_an_unrelated_complaint_by_another_company_in_the_same_region_is_not_found():
    assert find_similar(LICENCE, [UNPAID_WORKS, REPEATED_FINES]) == []


def test_an_unrelated_complaint_about_the_same_department_is_not_found():
    same_bureau_other_matter = case(201, UNPAID_WORKS, department_id=APPROVAL_BUREAU)
    assert same_party(LICENCE, same_bureau_other_matter)
    assert find_similar(LICENCE, [same_bureau_other_matter]) == []


def test_identical_text_from_an_unrelated_party_is_found_only_above_the_high_threshold():
    copy = case(202, LICENCE, company="石门市某某贸易有限公司")
    assert not same_party(LICENCE, copy)
    assert find_similar(LICENCE, [copy]) == [(202, 1.0)]
    # Closely retold (~0.6) but unrelated: found only if the high threshold is lowered below it.
    retold = case(203, LICENCE_RETOLD)
    score = text_similarity(LICENCE, retold)
    assert find_similar(LICENCE, [retold], cross_party_threshold=score + 0.01) == []
    assert find_similar(LICENCE, [retold], cross_party_threshold=score) == [(203, score)]
    # Whatever the high threshold, it never lets in less than the ordinary threshold asks.
    assert find_similar(LICENCE, [retold], threshold=score + 0.01, cross_party_threshold=0.0) == []


def test_identical_text_from_an_unrelated_party_must_come_from_the_same_prefecture():
    same_city = case(204, LICENCE, region=OTHER_DISTRICT_SAME_CITY)
    other_city = case(205, LICENCE, region=OTHER_CITY)
    unknown_region = case(206, LICENCE, region="")
    assert ids(find_similar(LICENCE, [same_city, other_city, unknown_region])) == [204, 206]
    # A shared party does not care about the region.
    same_company_elsewhere = case(207, LICENCE, credit_code=SHIFAN_CODE, region=OTHER_CITY)
    assert ids(find_similar(LICENCE, [same_company_elsewhere])) == [207]


def test_results_are_best_first_ties_to_the_lower_id_and_limited():
    candidates = [
        SAME_BUREAU,
        case(310, LICENCE, department_id=APPROVAL_BUREAU),
        UNPAID_WORKS,
        LICENCE_RETOLD,
        case(305, LICENCE, credit_code=SHIFAN_CODE),
        case(320, LICENCE),
        REPEATED_FINES,
    ]
    results = find_similar(LICENCE, candidates, limit=10)
    assert ids(results) == [305, 310, 320, LICENCE_RETOLD.id, SAME_BUREAU.id]
    scores = [score for _, score in results]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    assert find_similar(LICENCE, candidates, limit=2) == results[:2]
    assert find_similar(LICENCE, list(reversed(candidates)), limit=10) == results
    assert find_similar(LICENCE, candidates, limit=0) == []


def test_the_target_itself_is_never_returned():
    itself = case(LICENCE.id, LICENCE, credit_code=SHIFAN_CODE)
    assert find_similar(LICENCE, [LICENCE, itself, LICENCE_RETOLD]) == find_similar(LICENCE, [LICENCE_RETOLD])
    assert LICENCE.id not in ids(find_similar(LICENCE, [LICENCE, itself]))


def test_a_candidate_listed_twice_is_returned_once():
    assert ids(find_similar(LICENCE, [LICENCE_RETOLD, LICENCE_RETOLD])) == [LICENCE_RETOLD.id]


def test_no_candidates_give_no_results():
    assert find_similar(LICENCE, []) == []
    assert find_similar(LICENCE, iter(())) == []


def test_candidates_may_be_any_iterable():
    assert ids(find_similar(LICENCE, (c for c in [UNPAID_WORKS, LICENCE_RETOLD]))) == [LICENCE_RETOLD.id]


# --- timing (printed, not asserted) ------------------------------------------------------------

PHRASES = [
    "区行政审批局窗口工作人员推诿扯皮",
    "营业执照变更申请提交后迟迟办不下来",
    "施工许可证超过法定时限仍未核发",
    "窗口要求我们找指定的中介机构代办",
    "开发区管委会收取城市基础设施配套费{n}万元",
    "建设单位拖欠工程款{n}万元多次催要无果",
    "市场监管局执法人员一个月内重复检查{n}次",
    "因价签不规范被罚款{n}千元以罚代管",
    "消防验收一拖再拖导致厂房无法投产",
    "不动产登记材料被反复退回要求补正",
    "招投标文件设置不合理的资质门槛排斥本地企业",
    "投标保证金{n}万元到期后迟迟不予退还",
    "税务局留抵退税审核太慢影响资金周转",
    "工作人员吃拿卡要暗示请客送礼",
    "政务服务中心排队三个小时还没办上",
    "环评审批要求重复提交同样的材料",
    "城管局和街道多头执法互相推诿",
    "物业公司转供电加价乱收费",
]


def synthetic_cases(count: int, seed: int = 20240315) -> list[CaseText]:
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        parts = [p.format(n=rng.randint(1, 999)) for p in rng.sample(PHRASES, 10)]
        cases.append(
            CaseText(
                id=1000 + i,
                title=parts[0],
                content=f"我公司于2024年{rng.randint(1, 12)}月{rng.randint(1, 28)}日反映，"
                + "，".join(parts[1:])
                + "，请求相关部门尽快协调解决。",
                company=f"石门市{rng.choice('东南西北中')}{rng.choice('恒泰鑫源华盛')}{i % 97}有限公司",
                credit_code=rng.choice([None, SHIFAN_CODE, HENGTAI_CODE]),
                department_id=rng.choice([None, APPROVAL_BUREAU, HOUSING_BUREAU, MARKET_BUREAU]),
                region=rng.choice([DISTRICT, OTHER_DISTRICT_SAME_CITY, OTHER_CITY]),
            )
        )
    return cases


def test_timing_of_find_similar_over_2000_candidates(capsys):
    candidates = synthetic_cases(2000)
    start = time.perf_counter()
    cold = find_similar(LICENCE, candidates)
    cold_seconds = time.perf_counter() - start
    start = time.perf_counter()
    warm = find_similar(LICENCE, candidates)
    warm_seconds = time.perf_counter() - start
    with capsys.disabled():
        print(
            f"\nfind_similar over {len(candidates)} candidates: first call (segmenting every text) "
            f"{cold_seconds * 1000:.0f} ms, again (tokens cached) {warm_seconds * 1000:.0f} ms"
        )
    assert cold == warm and len(cold) <= 5
