"""Redaction of typical cases (app/redaction.py): the reporters' names, phone numbers, ID numbers,
credit codes, accounts, e-mail addresses, addresses and companies leave the published text;
amounts, dates, case numbers and department names stay; a warning case keeps the official
concerned, an exemplary one hides the name."""

from __future__ import annotations

import re

import pytest

from app.redaction import (
    ACCOUNT,
    ADDRESS,
    CREDIT_CODE,
    EMAIL,
    ID_NUMBER,
    MASK,
    OFFICIAL,
    PARAGRAPH_LIMIT,
    KnownParties,
    draft_heading,
    draft_summary,
    find_identity,
    redact,
)

# The canary reporter: none of this may ever reach a published text.
CANARY_NAME = "司马砚秋"
CANARY_PHONE = "13987654321"
CANARY_COMPANY = "石门市金穗粮油贸易有限公司"
CANARY_CODE = "91130102MA0CKH7T3L"  # valid GB 32100 check digit
OTHER_CODE = "91130104MA0D2LQ85A"  # 石门市恒泰建筑工程有限公司 (valid, not a known party)
ID_CARD = "130102198506120020"  # valid ISO 7064 check digit
ID_CARD_X = "13010219850612008X"
BANK_CARD = "6222021234567890123"  # 19 digits
DEPARTMENT = "长安区行政审批局"
OFFICIAL_NAME = "李建军"
CASE_NUMBER = "YS20260315000123"

PARTIES = KnownParties(
    reporter_names=(CANARY_NAME,),
    reporter_phones=(CANARY_PHONE,),
    reporter_companies=(CANARY_COMPANY,),
    credit_codes=(CANARY_CODE,),
    officials=(OFFICIAL_NAME,),
    departments=(DEPARTMENT,),
)
NOBODY = KnownParties()

# A complaint as a company owner writes it on the platform.
COMPLAINT = (
    f"我是{CANARY_NAME}，{CANARY_COMPANY}（统一社会信用代码{CANARY_CODE}）法定代表人，身份证号{ID_CARD}，"
    f"联系电话139 8765 4321，办公室座机0311-87654321，邮箱jinsui_sm@163.com。"
    f"我公司于2026年3月15日向{DEPARTMENT}申请食品经营许可证变更，材料齐全。窗口工作人员{OFFICIAL_NAME}以"
    "各种理由推诿扯皮，要求我们找指定中介代办，并暗示支付5000元“加急费”。至今已超过20个工作日仍未办结，"
    "金穗粮油因此损失订单约12.5万元。请将退还的费用打入我公司账户6222 0212 3456 7890 123。"
    "公司地址：石门市长安区建设北路12号院3号楼2单元501室。"
)
REPLY = (
    f"经核查，{DEPARTMENT}窗口工作人员{OFFICIAL_NAME}在办理中存在推诿扯皮问题。区纪委监委对{OFFICIAL_NAME}"
    "予以诫勉谈话，责令该局限期整改。该局已于2026年4月3日为金穗公司办结变更手续，退还费用5000元，"
    f"并主动上门回访，企业表示满意（案件编号{CASE_NUMBER}）。"
)

SAMPLES = (
    COMPLAINT,
    REPLY,
    "本人张伟，现年45岁，家住长安区幸福家园5号楼1单元302室，手机：138-0013-8000。",
    "联系人：王小明，电话(0311)8765 4321转8021，微信：wangxm_2026，QQ：123456789。",
    f"我司（石门市恒泰建筑工程有限公司，信用代码{OTHER_CODE}）反映：李科长多次刁难。",
    f"投诉人（陈大文，+86 137-0000-1111）反映，身份证{ID_CARD_X}，银行卡号：{BANK_CARD}。",
    "反映人：欧阳娜娜，地址：李家庄村3组15号，车牌冀A12345被扣。",
)


def all_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "replacement"),
    [
        ("张三丰", "张某"),
        ("李娜", "李某"),
        ("欧阳明明", "欧阳某"),
        ("司马砚秋", "司马某"),
    ],
)
def test_a_known_reporter_becomes_surname_mou(name, replacement):
    text = f"{name}于2026年3月2日来电反映，{name}称材料已提交。"
    out = redact(text, KnownParties(reporter_names=(name,)), warning=True)
    assert name not in out
    assert out == f"{replacement}于2026年3月2日来电反映，{replacement}称材料已提交。"


@pytest.mark.parametrize(
    "text",
    [
        "我叫赵德胜，是一名个体工商户。",
        "本人赵德胜反映：",
        "本人赵德胜，现年52岁。",
        "联系人：赵德胜，手机***。",
        "联系人赵德胜电话***。",
        "反映人赵德胜称，窗口不予受理。",
        "姓名：赵德胜；性别：男。",
        "举报人（赵德胜）实名举报。",
        "我是赵德胜，家住长安区。",
        "联系人：王小明今日再次来访。",
    ],
)
def test_a_self_introduced_name_becomes_moumou(text):
    out = redact(text, NOBODY, warning=True)
    assert "赵德胜" not in out and "王小明" not in out
    assert "某某" in out


@pytest.mark.parametrize(
    "text",
    [
        "本人认为审批时限过长，本人多次到窗口咨询，本人于今年3月已提交全部材料。",
        "我是一名个体工商户，我是石门人，我是外地来石门投资的。",
        "申请人提交的材料齐全，申请人于2026年3月申请。举报人称该局不作为。当事人对处理结果满意。",
        "联系人：区住建局综合科。投诉人向区住建局反映。来电人张先生称已办结。",
    ],
)
def test_the_triggers_without_a_name_change_nothing(text):
    assert redact(text, NOBODY, warning=True) == text


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "13987654321",
        "139 8765 4321",
        "139-8765-4321",
        "+86 139 8765 4321",
        "+86-13987654321",
        "(+86)13987654321",
        "０３１１－８７６５４３２１",  # full-width
        "0311-87654321",
        "031187654321",
        "(0311)8765 4321",
        "（0311）87654321",
        "0311 8765 4321",
        "010-12345678",
        "0311-87654321转8021",
        "400-123-4567",
    ],
)
def test_phone_numbers_are_masked(phone):
    out = redact(f"如有疑问请联系{phone}，谢谢。", NOBODY, warning=True)
    assert out == f"如有疑问请联系{MASK}，谢谢。"


def test_any_number_after_a_phone_word_is_masked_but_not_the_hotline():
    out = redact("电话：87654321。手机号码：1398765 4321。请拨打12345热线电话12345。", NOBODY, warning=True)
    assert out == f"电话：{MASK}。手机号码：{MASK}。请拨打12345热线电话12345。"


def test_a_known_phone_is_masked_in_any_grouping():
    parties = KnownParties(reporter_phones=("0311 6655 4433",))
    out = redact("座机0311-66554433或(0311) 6655-4433，分机6655443。", parties, warning=True)
    assert out == f"座机{MASK}或{MASK}，分机6655443。"  # the extension alone is another number


def test_id_numbers_and_credit_codes():
    text = (
        f"身份证号{ID_CARD}，另一证件{ID_CARD_X.lower()}；信用代码{CANARY_CODE}，合作方{OTHER_CODE}，"
        "代码911301001234567896。"
    )
    out = redact(text, NOBODY, warning=True)
    assert out == (
        f"身份证号{ID_NUMBER}，另一证件{ID_NUMBER}；信用代码{CREDIT_CODE}，合作方{CREDIT_CODE}，"
        f"代码{CREDIT_CODE}。"
    )


def test_a_known_credit_code_in_lower_case():
    out = redact(f"代码：{CANARY_CODE.lower()}", PARTIES, warning=True)
    assert out == f"代码：{CREDIT_CODE}"


@pytest.mark.parametrize(
    "account",
    [
        BANK_CARD,
        "6228480012345678",
        "6222 0212 3456 7890 123",
        "6222-0212-3456-7890",
        "1234 5678 9012 3456",
        "4100 0000 1234",
    ],
)
def test_bank_accounts_are_removed(account):
    out = redact(f"请将款项退回至{account}，谢谢。", NOBODY, warning=True)
    assert out == f"请将款项退回至{ACCOUNT}，谢谢。"


def test_a_short_account_after_its_word_is_removed():
    out = redact("收款账号：12345678901，开户行：建设银行。", NOBODY, warning=True)
    assert out == f"收款账号：{ACCOUNT}，开户行：建设银行。"


def test_email_qq_wechat():
    out = redact(
        "邮箱：Jin.Sui-2026@mail.example.com.cn；QQ号：123456789；微信号：jinsui_2026。", NOBODY, warning=True
    )
    assert out == f"邮箱：{EMAIL}；QQ号：{MASK}；微信号：{MASK}。"


# --- addresses and companies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("家住石门市长安区建设北路12号院3号楼2单元501室，", "家住石门市长安区，"),
        ("地址：河北省石门市桥西区中华南大街118号2单元402室。", "地址：河北省石门市桥西区。"),
        ("我住在长安区幸福家园5号楼1单元302室。", "我住在长安区。"),
        ("公司位于高新区科技园3号楼5层。", "公司位于高新区。"),
        ("我住在阳光小区3栋2单元501室。", f"我住在{ADDRESS}。"),
        ("地址：建设路12号。", f"地址：{ADDRESS}。"),
        ("投诉李家庄村3组15号的养殖场。", f"投诉{ADDRESS}的养殖场。"),
        ("住3号楼2单元501室。", f"住{ADDRESS}。"),
    ],
)
def test_detailed_addresses_keep_only_the_district(text, expected):
    assert redact(text, NOBODY, warning=True) == expected


def test_the_reporters_company_and_its_short_names():
    text = (
        f"{CANARY_COMPANY}成立于2010年。金穗粮油贸易有限公司、石门市金穗粮油贸易、金穗粮油、金穗公司均指"
        "该企业。"
    )
    out = redact(text, PARTIES, warning=True)
    assert "金穗" not in out
    assert out == "某公司成立于2010年。某公司、某企业、某企业、某公司均指该企业。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我司（石门市恒泰建筑工程有限公司）反映：", "我司（某公司）反映："),
        ("我公司石门市恒泰建筑工程有限公司于2025年中标。", "我公司于2025年中标。"),
        ("我们公司即石门市华和信息技术有限公司。", "我们公司即某公司。"),
        ("本厂（石门市红星机械厂）反映。", "本厂（某企业）反映。"),
        ("我是石门市恒泰建筑工程有限公司的项目经理。", "我是某公司的项目经理。"),
    ],
)
def test_a_company_named_by_its_reporter(text, expected):
    assert redact(text, NOBODY, warning=True) == expected


def test_every_named_company_leaves_but_a_kind_of_business_stays():
    text = (
        "要求我们找指定的石门市诚信中介服务有限公司代办，我单位附近新开一家饭店，我公司多次向区住建局反映。"
    )
    assert redact(text, NOBODY, warning=True) == (
        "要求我们找指定的某公司代办，我单位附近新开一家饭店，我公司多次向区住建局反映。"
    )


# --- what stays --------------------------------------------------------------------------------


@pytest.mark.parametrize("warning", [True, False])
def test_amounts_dates_case_numbers_and_departments_stay(warning):
    out = redact(COMPLAINT + REPLY, PARTIES, warning=warning)
    for kept in (
        "2026年3月15日",
        "2026年4月3日",
        "5000元",
        "12.5万元",
        "20个工作日",
        CASE_NUMBER,
        DEPARTMENT,
        "区纪委监委",
        "食品经营许可证",
    ):
        assert kept in out


@pytest.mark.parametrize(
    "text",
    [
        "区住建局于2026年3月10日受理该诉求后，5个工作日内组织现场核查，确认该企业已按期缴纳城市基础设施配套费"
        "126.5万元，依法退还多收的保证金20000元。",
        "市场监管局、区行政审批局、市发改委、县人民政府办公室和政务服务中心联合召开协调会，明确由区行政审批局牵头，"
        "在3个工作日内办结。",
        "经查，该局存在“门难进、脸难看、事难办”问题，对相关责任人予以诫勉谈话，责令限期整改，并在全市通报批评。"
        "2025年度共受理诉求1200件，办结率98.5%。",
        "企业于2024年9月申请，至2026年1月仍未办结，涉及金额3500万元，拖欠工程款12000000元，请求尽快解决。"
        "另有应收账款123456789012元未结清。",
        "窗口设在政务服务中心3号楼一层5号窗口，工作时间为周一至周五，咨询请拨打12345政务服务便民热线。",
        "根据《优化营商环境条例》第十二条和石政办发〔2025〕15号文件，自2026-01-01起施行，案件编号YS20260315000123。",
        "该项目位于高新区，总投资20亿元，占地150亩，预计2027年6月建成投产，可带动就业800人。",
        "我们知道3号窗口的工作人员态度很好，他们上门服务了2次，当天就办好了，张先生和王女士都很满意。",
    ],
)
@pytest.mark.parametrize("warning", [True, False])
def test_a_plain_paragraph_is_not_touched(text, warning):
    assert redact(text, NOBODY, warning=warning) == text


def test_warning_keeps_the_official_and_the_department():
    out = redact(COMPLAINT, PARTIES, warning=True)
    assert f"窗口工作人员{OFFICIAL_NAME}以各种理由" in out
    assert f"向{DEPARTMENT}申请" in out
    assert OFFICIAL not in out


def test_exemplary_hides_the_official_but_keeps_the_department():
    out = redact(COMPLAINT + "李科长答复称。李建军同志已调离。", PARTIES, warning=False)
    assert OFFICIAL_NAME not in out and "李科长" not in out
    assert f"窗口{OFFICIAL}以各种理由" in out
    assert f"{OFFICIAL}答复称。{OFFICIAL}已调离。" in out
    assert f"向{DEPARTMENT}申请" in out


@pytest.mark.parametrize("warning", [True, False])
def test_the_complaint_loses_every_personal_item(warning):
    out = redact(COMPLAINT, PARTIES, warning=warning)
    for gone in (
        CANARY_NAME,
        "砚秋",
        CANARY_COMPANY,
        "金穗",
        CANARY_CODE,
        ID_CARD,
        "8765",
        "87654321",
        "jinsui",
        "@",
        "6222",
        "建设北路",
        "501室",
    ):
        assert gone not in out
    assert "司马某" in out and "石门市长安区" in out
    assert not re.search(r"\d{7,}", out.replace(CASE_NUMBER, ""))


@pytest.mark.parametrize("warning", [True, False])
def test_an_official_named_inside_a_reporter_does_not_shield_the_reporter(warning):
    parties = KnownParties(
        reporter_names=("王建国",),
        reporter_companies=("石门市王建国商贸有限公司",),
        officials=("王建",),
        departments=("区住建局",),
    )
    out = redact("王建国反映，石门市王建国商贸有限公司受区住建局王建刁难。", parties, warning=warning)
    assert out == f"王某反映，某公司受区住建局{'王建' if warning else OFFICIAL}刁难。"


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("warning", [True, False])
def test_redaction_is_idempotent(text, warning):
    once = redact(text, PARTIES, warning=warning)
    assert redact(once, PARTIES, warning=warning) == once


def test_empty_text():
    assert redact("", PARTIES, warning=True) == ""


# --- the draft summary -------------------------------------------------------------------------


def summary(*, warning: bool, reply: str | None = REPLY, content: str = COMPLAINT) -> str:
    return draft_summary(
        title=f"{DEPARTMENT}办理许可证变更推诿扯皮（{CANARY_NAME}反映）",
        content=content,
        reply=reply,
        category="干部作风 / 推诿扯皮",
        department=DEPARTMENT,
        official=OFFICIAL_NAME,
        parties=PARTIES,
        warning=warning,
    )


@pytest.mark.parametrize("warning", [True, False])
def test_the_canary_never_reaches_the_summary(warning):
    text = summary(warning=warning, content=COMPLAINT * 5)
    for canary in (CANARY_NAME, CANARY_PHONE, CANARY_COMPANY, "金穗", CANARY_CODE, ID_CARD, BANK_CARD):
        assert canary not in text
        assert all_digits(canary) not in all_digits(text) or not all_digits(canary)


def test_a_warning_summary():
    paragraphs = summary(warning=True).split("\n\n")
    headings = ("一、基本情况。", "二、办理情况。", "三、处理结果及警示。")
    assert len(paragraphs) == 3 and all(map(str.startswith, paragraphs, headings))
    assert DEPARTMENT in paragraphs[0] and "干部作风 / 推诿扯皮" in paragraphs[0]
    assert MASK not in paragraphs[0] and EMAIL not in paragraphs[0]  # the sentences about who wrote
    assert "诫勉谈话" in paragraphs[1] and "诫勉谈话" in paragraphs[2]
    assert f"{DEPARTMENT}工作人员{OFFICIAL_NAME}" in paragraphs[2]
    assert "引以为戒" in paragraphs[2]


def test_an_exemplary_summary():
    text = summary(warning=False)
    paragraphs = text.split("\n\n")
    headings = ("一、基本情况。", "二、办理情况。", "三、经验做法。")
    assert len(paragraphs) == 3 and all(map(str.startswith, paragraphs, headings))
    assert OFFICIAL_NAME not in text and "李科长" not in text
    assert DEPARTMENT in paragraphs[0]
    assert "主动上门回访" in paragraphs[2]


@pytest.mark.parametrize("warning", [True, False])
def test_each_paragraph_is_trimmed(warning):
    long_reply = REPLY * 10
    paragraphs = summary(warning=warning, content=COMPLAINT * 10, reply=long_reply).split("\n\n")
    assert len(paragraphs) == 3
    assert all(len(p) <= PARAGRAPH_LIMIT for p in paragraphs)
    assert paragraphs[0].endswith("。")  # cut after a sentence


def test_a_summary_without_reply_or_department():
    text = draft_summary(
        title="",
        content="本人张伟，电话13800138000，反映审批超时。",
        reply=None,
        category="",
        department=None,
        official=None,
        parties=NOBODY,
        warning=True,
    )
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 3
    assert "张伟" not in text and "13800138000" not in text
    assert "相关部门" in paragraphs[1] and "待补充" in paragraphs[1]


@pytest.mark.parametrize("warning", [True, False])
def test_the_draft_summary_passes_the_detector_of_personal_data(warning):
    text = summary(warning=warning, content=COMPLAINT * 2)
    assert find_identity(text, PARTIES, warning=warning) == []
    assert CASE_NUMBER not in text and "我" not in text  # no case numbers, the third person


@pytest.mark.parametrize(
    ("title", "parties", "heading"),
    [
        (
            "石门市恒达建材有限公司张建国反映施工许可被要求缴纳无依据费用，电话13812345678",
            NOBODY,
            "某企业反映施工许可被要求缴纳无依据费用",
        ),
        (
            f"{DEPARTMENT}办理许可证变更推诿扯皮（{CANARY_NAME}反映）",
            PARTIES,
            f"某企业反映{DEPARTMENT}办理许可证变更推诿扯皮",
        ),
        ("关于施工许可证办理超时的投诉", NOBODY, "群众反映施工许可证办理超时"),
        ("我叫张伟，电话13800138000", NOBODY, f"群众反映{DEPARTMENT}存在“推诿扯皮”问题"),
    ],
)
def test_the_public_heading_is_the_redacted_title_in_the_third_person(title, parties, heading):
    out = draft_heading(title, parties, warning=True, category="推诿扯皮", department=DEPARTMENT)
    assert out == heading
    assert find_identity(out, parties, warning=True) == []
