"""Redaction of case texts for the published typical cases (典型案例通报) (pure: no Flask, no database).

Before a supervisor edits and a leader approves a typical case, the system drafts a summary with the
reporters' personal data removed. ``redact`` removes, in this order:

* e-mail addresses → ``[邮箱已删除]``; QQ numbers and WeChat ids after 「QQ」/「微信」 → ``***``;
* 18-digit resident ID numbers → ``[证件号码已删除]``; unified social credit codes (the known ones,
  any 18-character code with a letter, an all-digit one with a valid GB 32100 check digit)
  → ``[信用代码已删除]``;
* numbers after 「账号/卡号/账户」 and runs of 12–19 digits (also grouped by spaces or dashes)
  → ``[账号已删除]``;
* mobile numbers (``1[3-9]\\d{9}``, also ``139 1234 5678``, ``139-1234-5678``, ``+86``), landlines
  (``0311-87654321``, ``(0311)8765 4321``, extensions), 400/800 numbers, any number after
  「电话/手机/联系方式」 and the reporters' known numbers in any format → ``***``;
* licence plates → ``[车牌号已删除]``;
* detailed addresses (``建设北路12号3栋2单元501室``, ``幸福家园5号楼1单元302室``, ``李家庄村3组15号``)
  → the administrative part before them is kept (``石门市长安区``), otherwise ``[地址已删除]``;
* the reporters' companies (the known names and their short forms: 示范科技, 示范公司 …, a name
  ending in 有限公司/公司/厂/店/合作社 … right after 我公司/我司/本公司 …) and any other named business
  the detector finds (恒达建材有限公司, 老王烧烤店; not 物业公司, 一家饭店) → ``某公司`` / ``某企业``;
* the official concerned: kept as given for warning cases, ``某工作人员`` for exemplary ones
  (also 「李科长」 and 「工作人员李四」);
* the reporters' known names → surname + 某 (张三丰 → 张某, 欧阳明 → 欧阳某), a name after
  「我叫/联系人：/反映人/姓名：/本人/我是 …」 → ``某某``, and any other name the detector finds
  (王秀英反映, 经营者赵德胜) → surname + 某.

Kept on purpose: amounts (5000元, 2万元), dates, durations (5个工作日), case numbers (YS…: but
``for_publication`` removes them, public documents never carry them),
the hotline 12345 and other short numbers, and department names (…局/…委/…办/…中心/…政府): the
departments concerned are protected before any pattern runs. Full-width digits and letters are
folded to ASCII; zero-width characters and spaces between Chinese characters (张 建 国) are dropped
before anything is matched. What the patterns cannot read in the text as written (張建國, 张·建·国,
138.1234.5678, ①③⑧…, Zhang Jianguo) the detector finds in the text's skeleton, and ``redact``
removes what it finds (张某, 某公司, ***). The result of ``redact`` is a fixed point:
``redact(redact(x)) == redact(x)``.

``third_person`` retells the reporter's words (我叫某某，我家住… dropped, 我公司 → 该企业, 我 → 反映人);
``for_publication`` is redact + third person + no case numbers. ``draft_summary`` builds the
three-paragraph draft (基本情况, 办理情况, 处理结果及警示 or 经验做法) from the title and content made
fit for publication and the redacted reply (the department and official passed to it are added to
the known parties); sentences of the content left holding only removed items (「电话***」) are
dropped from 基本情况, and each paragraph has at most 600 characters. ``draft_heading`` writes the
public heading from the title (某企业反映…).

``find_identity`` is the detector a publication must pass (see its section below): it finds what
is still personal in a text, so a typical case is approved only when it finds nothing.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "ACCOUNT",
    "Found",
    "Finding",
    "draft_heading",
    "find_identity",
    "for_publication",
    "third_person",
    "ADDRESS",
    "CREDIT_CODE",
    "EMAIL",
    "ID_NUMBER",
    "KnownParties",
    "MASK",
    "OFFICIAL",
    "PARAGRAPH_LIMIT",
    "PLATE",
    "draft_summary",
    "redact",
]

MASK = "***"  # phone numbers, QQ, WeChat
ID_NUMBER = "[证件号码已删除]"
CREDIT_CODE = "[信用代码已删除]"
ACCOUNT = "[账号已删除]"
EMAIL = "[邮箱已删除]"
ADDRESS = "[地址已删除]"
PLATE = "[车牌号已删除]"
OFFICIAL = "某工作人员"  # the official concerned, in exemplary cases
PARAGRAPH_LIMIT = 600
MAX_PASSES = 4


@dataclass(frozen=True)
class KnownParties:
    reporter_names: tuple[str, ...] = ()  # names of the reporters of this case (from the encrypted identity)
    reporter_phones: tuple[str, ...] = ()
    reporter_companies: tuple[str, ...] = ()  # company names of reporters (e.g. 石门市示范科技有限公司)
    credit_codes: tuple[str, ...] = ()
    officials: tuple[str, ...] = ()  # the official concerned (kept for warning cases)
    departments: tuple[str, ...] = ()  # department names concerned (kept for warning cases)


# --- building blocks ---------------------------------------------------------------------------

CJK = "\u4e00-\u9fff"
_PUA = re.compile("[\ue000-\uf8ff]")  # placeholders of the protected spans
_PLACEHOLDER_BASE = 0xE000
_FULLWIDTH = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "＠": "@",
        "－": "-",
        "＋": "+",
        "．": ".",
        "＿": "_",
    }
)

NO_DIGIT_BEFORE = r"(?<![\dA-Za-z])(?<!\d[ -])"  # not the middle of a longer (grouped) number
NO_DIGIT_AFTER = r"(?![\dA-Za-z])(?![ -]\d)"
NOT_AMOUNT = r"(?![.．]\d)(?!\s*(?:元|万|亿|千|百|块|角|%|％|美元|港元|年|月|日|个|人|次|件|平方|亩|吨|米))"

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫 西门 "
    "百里 呼延 轩辕 万俟 澹台 申屠 太史 闻人 赫连 第五 钟离 公羊 濮阳 淳于 单于 拓跋".split()
)
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉"
    "缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑"
    "郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Characters that (practically) never end or fill a given name: function words, units, pronouns.
NOT_IN_NAME = frozenset(
    "的了是在于和与及或并也都就还又已曾将把被从向对为因所等这那其此各每该本我你他她它们个年月日时分号元今"
    "万亿次些么吗呢吧啊呀说讲称要想需请而但却则即到至往去来给让使由经人司局委办府厅处科队站所区县市省"
)
# What may follow a name in "本人张三，" / "我是张三反映…": a name is only taken after these triggers when
# something like this follows it (or punctuation, or the end).
NAME_FOLLOWERS = (
    "是",
    "在",
    "于",
    "反映",
    "投诉",
    "举报",
    "咨询",
    "求助",
    "申请",
    "现",
    "家住",
    "住",
    "系",
    "今年",
    "从",
    "向",
    "因",
    "和",
    "与",
    "及",
    "的",
    "电话",
    "手机",
    "联系",
    "身份证",
    "证件",
    "性别",
    "男",
    "女",
    "等",
    "称",
    "来电",
    "来信",
    "来访",
    "多次",
    "曾",
    "已",
    "也",
    "就",
    "想",
    "要",
    "说",
    "一直",
    "目前",
    "现年",
    "代表",
    "通过",
    "为",
    "作为",
    "自",
    "于是",
    "本人",
    "年",
    "岁",
    "名下",
    "承包",
    "经营",
    "开办",
    "负责",
)
NOT_A_NAME = (
    "先生",
    "女士",
    "同志",
    "总",
    "经理",
    "老师",
    "师傅",
    "某",
    "妻子",
    "丈夫",
    "家人",
    "孩子",
    "父亲",
    "母亲",
    "儿子",
    "女儿",
    "朋友",
    "同事",
    "公司",
    "企业",
    "单位",
)
FUNCTION_SURNAMES = frozenset("于和向时全常明安文成高路关")  # 本人于…, 我是高新区…: not after a weak trigger
OFFICE = tuple("局委办府厅处科所站队院部市区县省镇乡村") + ("中心",)  # a name is not followed by these
DEPARTMENT_AHEAD = re.compile(
    rf"[{CJK}]{{0,12}}?(?:局|委员会|委|办公室|中心|政府|法院|检察院|大队|派出所|街道办)"
)

STRONG_TRIGGERS = (
    "我叫",
    "名叫",
    "联系人",
    "反映人",
    "举报人",
    "投诉人",
    "来电人",
    "来信人",
    "来访人",
    "申请人",
    "求助人",
    "诉求人",
    "咨询人",
    "当事人",
    "法定代表人",
    "法人代表",
    "委托代理人",
    "代理人",
    "姓名",
)
WEAK_TRIGGERS = ("本人", "我是")
_NAME_TRIGGER = re.compile(
    "(?<!被)(?:"
    + "|".join(sorted(STRONG_TRIGGERS + WEAK_TRIGGERS, key=len, reverse=True))
    + ")"
    + r"[（(:：\s]*(?:为|是|系)?[:：]?\s*"
)

OFFICIAL_TITLES = (
    "副局长",
    "局长",
    "副科长",
    "科长",
    "副主任",
    "主任",
    "副处长",
    "处长",
    "股长",
    "所长",
    "站长",
    "队长",
    "书记",
    "县长",
    "区长",
    "镇长",
    "乡长",
    "组长",
    "同志",
    "警官",
    "专员",
)


def _surname_length(name: str) -> int:
    return 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1


def _is_cjk(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


def _mou(name: str) -> str:
    """张三丰 → 张某, 欧阳明 → 欧阳某; a name not written in Chinese → 某某."""
    if not _is_cjk(name) or len(name) < 2:
        return "某某"
    return name[: _surname_length(name)] + "某"


def _clean_terms(terms: Iterable[str | None], minimum: int = 2) -> list[str]:
    """Distinct stripped terms of ``minimum`` characters or more, the longest first."""
    found = {t.strip() for t in terms if t and len(t.strip()) >= minimum}
    return sorted(found, key=lambda t: (-len(t), t))


def _alternation(terms: Iterable[str]) -> str:
    return "|".join(re.escape(t) for t in terms)


class _Protector:
    """Swaps spans that must survive (case numbers, departments, officials) for one private-use
    character each, and swaps them back at the end."""

    def __init__(self) -> None:
        self.kept: list[str] = []

    def protect(self, text: str, pattern: re.Pattern[str]) -> str:
        def swap(match: re.Match[str]) -> str:
            self.kept.append(match.group(0))
            return chr(_PLACEHOLDER_BASE + len(self.kept) - 1)

        return pattern.sub(swap, text)

    def protect_terms(self, text: str, terms: list[str], shadows: list[str]) -> str:
        """Protects ``terms`` except where they are part of a longer shadow (a reporter's name or
        company that merely contains an official's name or a department's name)."""
        terms_set = set(terms)
        every = sorted(
            set(terms) | {s for s in shadows if any(t in s and t != s for t in terms)},
            key=lambda t: (-len(t), t),
        )

        def swap(match: re.Match[str]) -> str:
            if match.group(0) not in terms_set:
                return match.group(0)
            self.kept.append(match.group(0))
            return chr(_PLACEHOLDER_BASE + len(self.kept) - 1)

        return re.sub(_alternation(every), swap, text) if terms else text

    def restore(self, text: str) -> str:
        return _PUA.sub(lambda m: self.kept[ord(m.group(0)) - _PLACEHOLDER_BASE], text)


# --- numbers, codes, addresses -----------------------------------------------------------------

CASE_NUMBER = re.compile(r"(?<![A-Za-z0-9])YS\d{6,}(?![0-9])")

EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
QQ = re.compile(r"(?i)(?<![A-Za-z])(QQ号?(?:码)?\s*[:：]?\s*)\d{5,11}(?!\d)")
WECHAT = re.compile(r"(?i)((?:微信号?|wechat|vx)\s*[:：]?\s*)[A-Za-z][-_A-Za-z0-9]{5,19}")

ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![0-9A-Za-z])"
)
CREDIT = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])")
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

ACCOUNT_AFTER_WORD = re.compile(
    r"((?:银行卡号?|银行账号|银行帐号|开户账号|开户帐号|收款账号|收款帐号|账号|帐号|卡号|账户|帐户)"
    r"(?:号码|号|为|是)?\s*[:：]?\s*)\d[\d -]{6,}\d(?!\d)" + NOT_AMOUNT
)
ACCOUNT_RUN = re.compile(NO_DIGIT_BEFORE + r"\d{12,19}" + NO_DIGIT_AFTER + NOT_AMOUNT)
ACCOUNT_GROUPED = re.compile(
    NO_DIGIT_BEFORE + r"\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?" + NO_DIGIT_AFTER + NOT_AMOUNT
)

MOBILE = re.compile(
    r"(?:\+86[ -]?|(?<![\dA-Za-z+])(?<!\d[ -])(?:(?:00)?86[ -]?|[(（]\+?86[)）]\s?)?)"
    r"1[3-9]\d(?:[ -]?\d{4}){2}" + NO_DIGIT_AFTER + NOT_AMOUNT
)
LANDLINE = re.compile(
    NO_DIGIT_BEFORE + r"(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}[ -]?)\d{3,4}[ -]?\d{4}"
    r"(?:\s?(?:-|转|分机)\s?\d{1,6})?" + NO_DIGIT_AFTER + NOT_AMOUNT
)
_CN_DIGIT = "〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖幺两"
CHINESE_MOBILE = re.compile(  # 一三八一二三四五六七八: a mobile number written in words
    rf"(?<![{_CN_DIGIT}])[一壹幺][三四五六七八九叁肆伍陆柒捌玖][{_CN_DIGIT}]{{9}}(?![{_CN_DIGIT}])"
)
SERVICE_NUMBER = re.compile(NO_DIGIT_BEFORE + r"[48]00[ -]?\d{3}[ -]?\d{4}" + NO_DIGIT_AFTER + NOT_AMOUNT)
PHONE_AFTER_WORD = re.compile(
    r"((?:联系电话|电话号码|手机号码|手机号|电话|手机|座机|固话|联系方式|Tel|TEL|tel)"
    r"(?:为|是)?\s*[:：]?\s*)[(（]?\d[\d ()（）-]{5,16}\d(?:\s?(?:转|分机)\s?\d{1,6})?(?!\d)" + NOT_AMOUNT
)

PLATE_NUMBER = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•]?[A-HJ-NP-Z0-9]{5,6}"
    r"(?![A-Za-z0-9])"
)

_ADDR_STOP = "在住址是的为于从我去到往赴及与对把被将让给系即映诉报称经店厂司"
_ADDR_NAME = rf"(?:(?![{_ADDR_STOP}])[{CJK}]){{1,14}}?"
_NUM = r"(?:\d+|[一二三四五六七八九十百零〇]+)"
_BUILDING = rf"{_NUM}(?:号楼|号院|栋|幢|座)"
_UNITS = rf"(?:{_NUM}(?:号楼|号院|栋|幢|座|单元|层|楼|室|号|户)|[-－]\d+|[A-Za-z]座)*"
STREET_ADDRESS = re.compile(
    rf"(?P<name>{_ADDR_NAME})(?:大街|大道|路|街|巷|胡同|弄)(?:[东西南北中]段)?{_NUM}(?:号院|号楼|号|弄){_UNITS}"
)
ESTATE_ADDRESS = re.compile(
    rf"(?P<name>{_ADDR_NAME})(?:小区|花园|家园|公寓|大厦|新村|社区|广场|公馆|庄园|山庄|嘉园|佳苑|名苑|苑|园)"
    rf"{_BUILDING}{_UNITS}"
)
VILLAGE_ADDRESS = re.compile(rf"(?P<name>{_ADDR_NAME})村{_NUM}组(?:{_NUM}号)?{_UNITS}")
BARE_UNITS = re.compile(rf"(?<!\d){_BUILDING}{_NUM}单元{_UNITS}")
# where someone lives, without a number: 家住幸福小区, 住址：长安区翠屏花园小区
RESIDENCE = re.compile(
    r"(?P<trigger>(?:家住|住在|居住在|居住于|现住|住址|地址)[:：\s]*)"
    rf"(?P<name>(?:(?![{_ADDR_STOP}局委办府院])[{CJK}]){{1,14}}?)"
    r"(?:小区|花园|家园|公寓|新村|大院|宿舍|嘉园|佳苑|名苑|山庄|公馆)"
)


def _valid_credit_code(code: str) -> bool:
    code = code.upper()
    if any(ch not in _CREDIT_ALPHABET for ch in code):
        return False
    total = sum(_CREDIT_ALPHABET.index(ch) * w for ch, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31] == code[17]


def _credit(match: re.Match[str]) -> str:
    code = match.group(0)
    if any(ch.isalpha() for ch in code) or _valid_credit_code(code):
        return CREDIT_CODE
    return code  # 18 digits without a valid check digit: an account number, redacted later


def _digits_pattern(number: str) -> re.Pattern[str] | None:
    """A known number in any grouping: 13912345678 also matches 139 1234 5678 and +86-139…"""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return None
    body = r"[ ()（）-]{0,2}".join(digits)
    return re.compile(r"(?<!\d)(?:(?:\+|00)?86[ -]?)?[(（]?" + body + r"(?!\d)")


def _district_part(name: str) -> str | None:
    """The administrative part at the start of an address (石门市长安区建设 → 石门市长安区)."""
    for suffixes in ("区县旗", "市州盟"):
        ends = [i for i, ch in enumerate(name) if ch in suffixes and i + 1 < len(name) and i >= 1]
        if ends:
            return name[: ends[-1] + 1]
    return None


def _address(match: re.Match[str]) -> str:
    name = match.groupdict().get("name") or ""
    district = _district_part(name)
    if district:
        return district
    keep = name[:-4] if len(name) > 4 else ""  # an estate or road name has 2–4 characters
    return keep + ADDRESS


# --- companies ---------------------------------------------------------------------------------

LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "公司",
    "合作社",
    "工作室",
    "商行",
    "门市部",
    "经营部",
    "厂",
    "店",
)
INDUSTRY_WORDS = (
    "房地产开发",
    "建筑工程",
    "新材料",
    "科技",
    "技术",
    "建筑",
    "工程",
    "贸易",
    "商贸",
    "实业",
    "投资",
    "发展",
    "物流",
    "食品",
    "医药",
    "房地产",
    "置业",
    "建材",
    "机械",
    "电子",
    "信息",
    "网络",
    "文化",
    "传媒",
    "餐饮",
    "农业",
    "化工",
    "能源",
    "环保",
    "装饰",
    "物业",
    "服务",
    "管理",
    "咨询",
    "制造",
    "设备",
    "汽车",
    "纺织",
    "服装",
    "印刷",
    "包装",
    "电器",
    "钢铁",
    "材料",
    "生物",
    "制药",
    "粮油",
    "集团",
    "开发",
    "建设",
)
_ADMIN_PREFIX = re.compile(
    rf"^(?:[{CJK}]{{2,3}}?(?:省|自治区))?(?:[{CJK}]{{2,4}}?市)?(?:[{CJK}]{{2,4}}?[区县])?"
)
_COMPANY_FIRST = rf"(?:(?![向于在被对的了找让给把将从与和及是为我局委办府去某即系名全])[{CJK}])"
_COMPANY_CH = rf"(?:(?![向于在被对的了找让给把将从是我局委办府去某])[{CJK}])"
_COMPANY_TRIGGERS = (
    "我们公司",
    "我公司",
    "我司",
    "本公司",
    "我单位",
    "本单位",
    "我企业",
    "本企业",
    "我厂",
    "本厂",
    "我店",
    "本店",
    "我社",
    "本社",
)
COMPANY_AFTER_TRIGGER = re.compile(
    "(?P<trigger>" + "|".join(_COMPANY_TRIGGERS) + ")"
    r"(?P<sep>[（(：:\s]*(?:即|系|名称为|全称为|全称|为)?[（(：:\s]*)"
    rf"(?P<name>(?!某){_COMPANY_FIRST}{_COMPANY_CH}{{1,30}}(?:{'|'.join(LEGAL_FORMS)}))"
)
COMPANY_SELF = re.compile(  # 我是石门市示范科技有限公司的负责人: legal forms only
    r"(?P<trigger>我是|本人是|本人系|我系|我们是)"
    rf"(?P<name>(?!某){_COMPANY_FIRST}{_COMPANY_CH}{{1,30}}(?:股份有限公司|有限责任公司|有限公司|合作社))"
)


def _company_word(name: str) -> str:
    return "某公司" if name.endswith("公司") else "某企业"


def _company_after_trigger(match: re.Match[str]) -> str:
    """我司（石门市恒泰建筑工程有限公司） → 我司（某公司）; 我公司石门市恒泰…有限公司于 → 我公司于."""
    if not match.group("sep"):
        # without a separator only a registered name (…公司, …合作社): 我单位附近新开一家饭店 stays
        if not match.group("name").endswith(("公司", "合作社")):
            return match.group(0)
        return match.group("trigger")
    return match.group("trigger") + match.group("sep") + _company_word(match.group("name"))


def _company_aliases(company: str) -> set[str]:
    """The ways a text names a company: 石门市示范科技有限公司, 示范科技有限公司, 石门市示范科技, 示范科技,
    示范公司 (never the bare core 示范, which is an ordinary word)."""
    company = company.strip()
    aliases = {company}
    short = company[_ADMIN_PREFIX.match(company).end() :]
    if len(short) >= 4:
        aliases.add(short)
    for form in LEGAL_FORMS:
        if short.endswith(form) and len(short) > len(form):
            bare = short[: -len(form)]
            aliases.add(company[: len(company) - len(form)])
            core = bare
            changed = True
            while changed:
                changed = False
                for word in INDUSTRY_WORDS:
                    if core.endswith(word) and len(core) - len(word) >= 2:
                        core, changed = core[: -len(word)], True
                        aliases.add(core)  # 金穗粮油贸易 → 金穗粮油 → (金穗: too short, only 金穗公司)
                        break
            aliases.update({bare, core + "公司"})
            break
    return {a for a in aliases if len(a) >= 4}


# --- names -------------------------------------------------------------------------------------


def _follows_name(rest: str) -> bool:
    return not rest or rest.startswith(NAME_FOLLOWERS)


def _name_at(text: str, start: int, strong: bool) -> int:
    """The length of a personal name at ``text[start]`` after a trigger (0: none).

    After a weak trigger (本人, 我是) the name must start with a common surname and be followed by
    punctuation or a word such as 反映/是/在. After a strong one (我叫, 联系人：, 姓名：) a name with an
    uncommon surname is taken when punctuation follows it, and a three-character name with a common
    surname also when an unknown word follows (联系人：王小明今日来访)."""
    run = re.match(rf"[{CJK}]*", text[start:]).group(0)
    if len(run) < 2 or "某" in run[:4] or run.startswith(NOT_A_NAME):
        return 0
    base = _surname_length(run)
    if run[base:].startswith(NOT_A_NAME):
        return 0
    common = run[:base] in SURNAMES | COMPOUND_SURNAMES
    if not strong and (not common or run[0] in FUNCTION_SURNAMES):
        return 0
    candidates = [
        n
        for n in (base + 1, base + 2)
        if n <= len(run) and not NOT_IN_NAME & set(run[base:n]) and not run[n:].startswith(OFFICE)
    ]
    for n in candidates:  # the shortest name that punctuation or something name-like follows
        if n == len(run) or (common and _follows_name(run[n:])):
            return n
    if (
        strong
        and common
        and candidates
        and candidates[-1] == base + 2
        and not set(run[: base + 6]) & set(OFFICE)
        and not DEPARTMENT_AHEAD.match(run)
    ):
        return base + 2
    return 0


def _redact_name_triggers(text: str) -> str:
    out, pos = [], 0
    for match in _NAME_TRIGGER.finditer(text):
        if match.start() < pos:
            continue
        strong = not match.group(0).startswith(WEAK_TRIGGERS)
        length = _name_at(text, match.end(), strong)
        if length:
            out.append(text[pos : match.end()] + "某某")
            pos = match.end() + length
    out.append(text[pos:])
    return "".join(out)


# --- redact ------------------------------------------------------------------------------------


def _sub_terms(text: str, terms: list[str], repl: Callable[[str], str], flags: int = 0) -> str:
    if not terms:
        return text
    return re.sub(_alternation(terms), lambda m: repl(m.group(0)), text, flags=flags)


def redact(text: str, parties: KnownParties, *, warning: bool) -> str:
    """``text`` without the reporters' personal data; see the module docstring for the rules.

    For a warning case (``warning=True``) the official and the departments concerned stay as given;
    for an exemplary case the official becomes 某工作人员. Department names always stay.
    """
    text = _visible(_PUA.sub("", text or ""))[0].translate(_FULLWIDTH)  # 张 建 国, 张\u200b建国 → 张建国
    # One pass is normally a fixed point; a removal can create a new match (two numbers glued
    # together: 13912345678+86 137…), so it is repeated until nothing changes.
    for _ in range(MAX_PASSES):
        redacted = _remove_findings(_redact_once(text, parties, warning), parties, warning)
        if redacted == text:
            break
        text = redacted
    return text


def _remove_findings(text: str, parties: KnownParties, warning: bool) -> str:
    """``text`` without what the detector still finds in it: what the patterns above cannot read
    (張建國, 张·建·国, 138.1234.5678, ①③⑧…, Zhang Jianguo) is read in the text's skeleton."""
    marks = {
        Found.PHONE: MASK,
        Found.IM: MASK,
        Found.ID_NUMBER: ID_NUMBER,
        Found.CREDIT_CODE: CREDIT_CODE,
        Found.ACCOUNT: ACCOUNT,
        Found.EMAIL: EMAIL,
        Found.PLATE: PLATE,
        Found.ADDRESS: ADDRESS,
    }

    def mark(finding: Finding) -> str:
        if finding.kind == Found.COMPANY:
            return _company_word(_fold(finding.text))
        if finding.kind == Found.NAME:
            name = _fold(finding.text)
            surname = name[: _surname_length(name)]
            return surname + "某" if _is_cjk(name) and surname in SURNAMES | COMPOUND_SURNAMES else "某某"
        return marks[finding.kind]

    found = [
        f
        for f in find_identity(text, parties, warning=warning)
        if f.kind not in (Found.SELF, Found.CASE_NUMBER)
    ]
    chosen: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if not chosen or f.start >= chosen[-1].end:
            chosen.append(f)
    for f in reversed(chosen):
        text = text[: f.start] + mark(f) + text[f.end :]
    return text


def _redact_once(text: str, parties: KnownParties, warning: bool) -> str:
    if not text:
        return ""
    guard = _Protector()
    text = guard.protect(text, CASE_NUMBER)
    reporters = _clean_terms(parties.reporter_names)
    officials = _clean_terms(parties.officials)
    aliases = _clean_terms(
        a for company in parties.reporter_companies if company for a in _company_aliases(company)
    )
    text = guard.protect_terms(text, _clean_terms(parties.departments), reporters + aliases)
    if warning:
        text = guard.protect_terms(text, officials, reporters + aliases)

    # e-mail first: an address may hold a phone number or a name in pinyin
    text = EMAIL_ADDRESS.sub(EMAIL, text)
    text = QQ.sub(lambda m: m.group(1) + MASK, text)
    text = WECHAT.sub(lambda m: m.group(1) + MASK, text)

    # identity documents and codes (18 characters) before the digit runs
    text = _sub_terms(text, _clean_terms(parties.credit_codes, 15), lambda _: CREDIT_CODE, re.IGNORECASE)
    text = ID_CARD.sub(ID_NUMBER, text)
    text = CREDIT.sub(_credit, text)
    text = ACCOUNT_AFTER_WORD.sub(lambda m: m.group(1) + ACCOUNT, text)

    # phone numbers: the reporters' own in any grouping, then the usual shapes
    for phone in parties.reporter_phones:
        pattern = _digits_pattern(phone or "")
        if pattern:
            text = pattern.sub(MASK, text)
    text = PHONE_AFTER_WORD.sub(lambda m: m.group(1) + MASK, text)
    text = MOBILE.sub(MASK, text)
    text = CHINESE_MOBILE.sub(MASK, text)
    text = SERVICE_NUMBER.sub(MASK, text)
    text = LANDLINE.sub(MASK, text)
    text = ACCOUNT_RUN.sub(ACCOUNT, text)
    text = ACCOUNT_GROUPED.sub(ACCOUNT, text)
    text = PLATE_NUMBER.sub(PLATE, text)

    # addresses (before the companies: 石门市示范科技有限公司 has no house number)
    for pattern in (STREET_ADDRESS, ESTATE_ADDRESS, VILLAGE_ADDRESS):
        text = pattern.sub(_address, text)
    text = BARE_UNITS.sub(ADDRESS, text)
    text = RESIDENCE.sub(lambda m: m.group("trigger") + (_district_part(m.group("name")) or ADDRESS), text)

    # companies: the known ones and their short forms, a name right after 我公司/我司 …, then any
    # other name of a business the detector finds
    text = _sub_terms(text, aliases, _company_word)
    text = COMPANY_AFTER_TRIGGER.sub(_company_after_trigger, text)
    text = COMPANY_SELF.sub(lambda m: m.group("trigger") + _company_word(m.group("name")), text)
    text = _replace_spans(text, _company_spans(text), _company_word)

    # the official concerned (exemplary cases): 工作人员李四 / 李四科长 / 李科长 → 某工作人员
    if not warning and officials:
        # a reporter whose name contains the official's (李四海, 李四) keeps the reporter's treatment
        text = _sub_terms(text, [r for r in reporters if any(o in r and o != r for o in officials)], _mou)
        titles = "|".join(OFFICIAL_TITLES)
        text = re.sub(rf"(?:工作人员)?(?:{_alternation(officials)})(?:{titles})?", OFFICIAL, text)
        surnames = {o[: _surname_length(o)] for o in officials if _is_cjk(o)}
        if surnames:
            text = re.sub(
                rf"(?<!某)(?:{_alternation(sorted(surnames, key=len, reverse=True))})(?:{titles})",
                OFFICIAL,
                text,
            )

    # the reporters' names: the known ones → 张某, a name after 我叫/联系人/反映人/本人 … → 某某
    text = _sub_terms(text, reporters, _mou)
    text = _redact_name_triggers(text)
    text = _replace_spans(text, _name_spans(text), _mou)  # any other name the detector finds
    return guard.restore(text)


# --- the detector ------------------------------------------------------------------------------
#
# ``find_identity`` lists what a text about to be published still says about a person: the same
# patterns as ``redact`` for numbers, codes, plates, e-mail and addresses, the known parties in any
# of their forms, and, for the words, jieba's part-of-speech tagger (jieba.posseg: nr person name,
# ns place, nz/nt proper noun, organisation) checked by rules. jieba alone tags common words as
# names (许可证, 阳光, 宁可, 农家乐) and splits names it does not know (王 / 秀英, 欧阳 / 明明), so a
# name is taken when it starts with a common surname and its given name has one or two characters
# that may end a name, a one-character given name only with a reporting verb after it (李娜反映) or
# when the dictionary does not know the word; a name after a trigger (我叫, 联系人：, 负责人) or a
# compound surname (欧阳, 司马, 诸葛 …) is taken by rule. A company is a word ending in a legal form
# (有限公司, 合作社, 厂, 店, 工作室 …) with a registered form or a proper noun in front of it (恒达,
# 老王, 第三): 物业公司, 中介公司, 一家烧烤店, 某公司, 该店 are not names. The reporter writing in the first
# person (我叫, 本人, 我家住, 我公司, 俺们) is found outside quotations; 我市, 我局, 我省 are the
# authorities' own voice. All of it reads the text's skeleton (Traditional characters as Simplified,
# separators between characters and digits dropped, every digit ASCII; see "the skeleton" below),
# with the known parties also in pinyin, and names each finding as the text writes it.
# Measured on tests/unit/test_identity_detector.py (see bench/detector.py).


class Found(StrEnum):
    """What ``find_identity`` found."""

    NAME = "name"
    COMPANY = "company"
    PHONE = "phone"
    ID_NUMBER = "id_number"
    CREDIT_CODE = "credit_code"
    ACCOUNT = "account"
    ADDRESS = "address"
    PLATE = "plate"
    EMAIL = "email"
    IM = "im"  # a QQ number or a WeChat id
    SELF = "self"  # the reporter describing themselves in the first person
    CASE_NUMBER = "case_number"  # never in a public document


@dataclass(frozen=True)
class Finding:
    kind: Found
    text: str  # what was found (for a self-description: the words that start it)
    start: int
    end: int


@dataclass(frozen=True)
class _Token:
    word: str
    flag: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.word)


_pos_tokenizer = None  # jieba.posseg.POSTokenizer, built by _pos()
_pos_lock = threading.Lock()


def _pos():
    """The module's own part-of-speech tokenizer (a private jieba dictionary), built on first
    use (~1 s)."""
    global _pos_tokenizer
    if _pos_tokenizer is None:
        with _pos_lock:
            if _pos_tokenizer is None:
                import jieba
                import jieba.posseg

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _pos_tokenizer = jieba.posseg.POSTokenizer(tokenizer)
    return _pos_tokenizer


@lru_cache(maxsize=256)  # redact and find_identity ask for the same text several times in a row
def _tokens(text: str) -> tuple[_Token, ...]:
    """jieba's words of ``text`` with their tags and offsets."""
    out, pos = [], 0
    for pair in _pos().cut(text):
        start = text.find(pair.word, pos)
        if start < 0:
            continue
        out.append(_Token(pair.word, pair.flag, start))
        pos = start + len(pair.word)
    return tuple(out)


def _freq(word: str) -> int:
    return _pos().tokenizer.FREQ.get(word) or 0


PERSON_FLAGS = frozenset({"nr", "nrfg", "nrt"})
PROPER_FLAGS = PERSON_FLAGS | {"ns", "nz", "nt"}
REPORT_VERBS = (
    "反映",
    "投诉",
    "举报",
    "来电",
    "来信",
    "来访",
    "称",
    "表示",
    "介绍",
    "说",
    "咨询",
    "求助",
    "实名",
)
# Words after which a person's name follows (经营者赵德胜, 丈夫陈志强, 请转告冯建华).
ROLE_WORDS = (
    "工作人员",
    "经营者",
    "负责人",
    "法人",
    "老板",
    "业主",
    "村民",
    "居民",
    "个体工商户",
    "个体户",
    "股东",
    "丈夫",
    "妻子",
    "爱人",
    "老公",
    "老婆",
    "儿子",
    "女儿",
    "父亲",
    "母亲",
    "员工",
    "职工",
    "工人",
    "司机",
    "店主",
    "厂长",
    "经理",
    "会计",
    "律师",
    "商户",
    "摊主",
    "农户",
    "同事",
    "朋友",
    "邻居",
    "队长",
    "包工头",
    "户主",
    "转告",
    "告知",
    "联系",
    "委托",
)
_ROLE = re.compile("(?:" + "|".join(sorted(ROLE_WORDS, key=len, reverse=True)) + r")[:：\s]*")
_COMPOUND = re.compile("|".join(sorted(COMPOUND_SURNAMES)))
# How people are named without their given name (张先生, 王女士, 李科长): not a name.
COURTESY = (
    NOT_A_NAME
    + OFFICIAL_TITLES
    + tuple("工姐哥叔姨伯婶嫂爷奶")
    + (
        "夫人",
        "太太",
        "大哥",
        "大姐",
        "阿姨",
        "公公",
        "婆婆",
        "大夫",
        "医生",
        "律师",
        "会计",
        "老板",
        "师傅",
    )
)
# The last character of words jieba's dictionary tags as names that are places or things.
NAME_NOT_END = frozenset(
    "证性区市县镇乡村州省路街道巷楼栋号室局委办处科所站队院部厂店司社费税款率卜塔车殿阁线庙郡湾"
)
COMMON_NR_WORDS = frozenset(
    "许可证 安全性 胡萝卜 金字塔 吉普车 金刚石 全家福 古建筑 黄金周 高新区 石英砂 金元宝 金钱豹 马尾松 "
    "杜鹃花 白玉兰 梅雨期 武昌鱼 胡杨林 司礼监 师兄弟 古文化 农家乐 石家庄 张家口 金水河 金水桥 "
    "黄鹤楼".split()
)


def _given_name_ok(name: str, rest: str) -> bool:
    """``name`` (surname + given name) may be a person's name with ``rest`` after it."""
    base = _surname_length(name)
    if name[:base] not in SURNAMES and name[:base] not in COMPOUND_SURNAMES:
        return False
    given = name[base:]
    if not 1 <= len(given) <= 2 or not _is_cjk(given) or "某" in given or given.startswith(COURTESY):
        return False
    if set(given) & NOT_IN_NAME or name[-1] in NAME_NOT_END or name in COMMON_NR_WORDS:
        return False
    return not rest.startswith(OFFICE + ("路", "街", "道", "大道", "镇", "乡", "省"))


def _jieba_name(text: str, start: int, name: str, word: str) -> bool:
    rest = text[start + len(name) :]
    if not _given_name_ok(name, rest):
        return False
    if len(name) - _surname_length(name) == 2:
        return True
    # a one-character given name: 许可, 阳光, 宁可, 高明 are words too
    if rest.startswith(REPORT_VERBS):
        return True
    run = re.match(rf"[{CJK}]*", rest).group(0)
    return _freq(word) < 100 and _follows_name(run)


def _name_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` names a person (not 张某, 王女士, 李科长)."""
    spans: list[tuple[int, int]] = []
    tokens = _tokens(text)
    words = {(t.start, t.end): t for t in tokens}

    def a_word(start: int, end: int) -> bool:  # 工作人员刁难: 刁难 is a verb, not 刁 + 难
        token = words.get((start, end))
        return token is not None and token.flag not in PERSON_FLAGS and _freq(token.word) >= 20

    for match in _NAME_TRIGGER.finditer(text):
        strong = not match.group(0).startswith(WEAK_TRIGGERS)
        length = _name_at(text, match.end(), strong)
        if length and (strong or not a_word(match.end(), match.end() + length)):
            spans.append((match.end(), match.end() + length))
    for match in _ROLE.finditer(text):
        length = _name_at(text, match.end(), strong=False)
        if length and not a_word(match.end(), match.end() + length):
            spans.append((match.end(), match.end() + length))
    starts = {t.start for t in tokens}
    for match in _COMPOUND.finditer(text):
        if match.start() in starts:
            length = _name_at(text, match.start(), strong=False)
            if length > 2:
                spans.append((match.start(), match.start() + length))
    for i, token in enumerate(tokens):
        if token.flag not in PERSON_FLAGS or not _is_cjk(token.word):
            continue
        previous = tokens[i - 1] if i else None
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if len(token.word) == 1 and following is not None and _is_cjk(following.word):
            if len(following.word) <= 2 and following.flag[:1] in ("n", "a"):  # 王 / 秀英, 胡 / 春生
                name = token.word + following.word
                if _jieba_name(text, token.start, name, name):
                    spans.append((token.start, token.start + len(name)))
            continue
        if previous is not None and len(previous.word) == 1 and len(token.word) <= 2:
            name = previous.word + token.word  # 高 / 志远
            if previous.word in SURNAMES and _jieba_name(text, previous.start, name, name):
                spans.append((previous.start, token.end))
                continue
        if _jieba_name(text, token.start, token.word, token.word):
            spans.append((token.start, token.end))
    for i, token in enumerate(tokens[:-1]):  # a surname jieba took for another word: 孙(zg) / 桂兰(ns)
        following = tokens[i + 1]
        if (
            token.word in SURNAMES
            and token.flag not in PERSON_FLAGS
            and token.word not in FUNCTION_SURNAMES
            and len(following.word) == 2
            and following.flag in PROPER_FLAGS
        ):
            name = token.word + following.word
            if _jieba_name(text, token.start, name, name):
                spans.append((token.start, following.end))
    return spans


# The detector also knows kinds of business that are not legal forms (longest first: a name
# ends in the longest form it matches).
COMPANY_FORMS = tuple(
    sorted(
        {*LEGAL_FORMS, "家庭农场", "农场", "养殖场", "餐厅", "酒店", "宾馆", "超市", "药房", "诊所", "馆"},
        key=len,
        reverse=True,
    )
)
REGISTERED_FORMS = ("有限公司", "有限责任公司", "合作社", "集团公司", "家庭农场")
PUBLIC_VENUES = (
    "图书馆",
    "博物馆",
    "体育馆",
    "文化馆",
    "纪念馆",
    "展览馆",
    "科技馆",
    "美术馆",
    "档案馆",
    "殡仪馆",
    "场馆",
)
_NOT_IN_A_NAME_VERBS = frozenset(REPORT_VERBS) | frozenset(
    "要求 申请 成立 加入 注册 委托 联系 通过 经过 起诉 找到 指定 认为 提交 办理 开办 开设 经营 入股".split()
)
_COMPANY_NAME_FLAGS = ("n", "vn", "an", "a", "b", "j", "l", "s", "x", "eng", "zg", "k", "i")
_COMPANY_STOP = frozenset(
    "该 这 那 这家 那家 一家 此 其 本 我 你 他 她 涉事 相关 有关 指定 所属 名下 下属 旗下 对方 当地 附近 "
    "多家 各 每 各家 这个 那个 某些 一些 个别 部分 原 新 老 大 小".split()
)
INDUSTRY_VERBS = frozenset(INDUSTRY_WORDS) | frozenset(
    "服务 开发 建设 经营 管理 咨询 制造 发展 投资 种植 养殖 加工 销售 批发 零售 维修 装修 运输 美发 美容 "
    "烧烤 印刷 包装 租赁 配送 检测 设计 培训 贸易 生产 经销 代理 装饰 安装 回收 修理 洗车 超市".split()
)


def _in_company_name(token: _Token, registered: bool) -> bool:
    word, flag = token.word, token.flag
    if not _is_cjk(word) or word in _COMPANY_STOP:
        return False
    if word.endswith(("局", "委", "办", "政府", "法院", "检察院", "中心", "部门", "派出所", "大队")):
        return False
    if flag == "m":
        return word.startswith("第")
    if flag.startswith("v"):  # a registered name may hold a verb (长河县丰收家庭农场)
        if flag == "vn" or word in INDUSTRY_VERBS:
            return True
        return registered and len(word) >= 2 and word not in _NOT_IN_A_NAME_VERBS
    return flag in PROPER_FLAGS or flag.startswith(_COMPANY_NAME_FLAGS)


def _place(token: _Token) -> bool:
    return token.flag == "ns" or (
        token.word.endswith(("省", "市", "县", "区", "镇", "乡")) and token.flag != "v"
    )


def _specific(token: _Token) -> bool:
    """A word that makes a business a named one: a proper noun, an ordinal (第三), a word the
    dictionary does not know (a brand: 恒达, 美佳)."""
    if token.flag in PROPER_FLAGS or (token.flag == "m" and token.word.startswith("第")):
        return True
    return len(token.word) >= 2 and _freq(token.word) < 10


def _company_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` names a business (not 某公司, 该店, 物业公司, 一家烧烤店)."""
    tokens = _tokens(text)
    spans: list[tuple[int, int]] = []
    for j, token in enumerate(tokens):
        form = next((f for f in COMPANY_FORMS if token.word.endswith(f)), None)
        if form is None or not _is_cjk(token.word) or token.word.endswith(PUBLIC_VENUES):
            continue
        registered = token.word.endswith(REGISTERED_FORMS) or (
            j > 0 and (tokens[j - 1].word + token.word).endswith(REGISTERED_FORMS)
        )
        k = j
        while k > 0 and _in_company_name(tokens[k - 1], registered):
            k -= 1
        if (k > 0 and tokens[k - 1].word.endswith("某")) or token.word.startswith(("某", "该", "本", "我")):
            continue
        prefix = tokens[k:j]
        # a named business: a proper noun, an ordinal or a brand in front of the form (恒达建材有限公司,
        # 老王烧烤店, 第三机械厂); a registered one also when a place names it (石门市建设工程有限公司)
        specific = token.flag in ("nt", "nz") or any(_specific(t) for t in prefix)
        if registered and any(
            _place(t) or (_freq(t.word) < 200 and t.word not in INDUSTRY_VERBS) for t in prefix
        ):
            specific = True  # a rarer word in front of a registered form is a brand (绿野农业发展有限公司)
        if specific:
            start = tokens[k].start
            if text[start] in "系即" and token.end - start > 4:  # 系恒达(nz) / 建材 / 公司: 系 is the verb
                start += 1
            spans.append((start, token.end))
    return spans


_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|\"[^\"]*\"|‘[^’]*’")
_FIRST_PERSON = re.compile(
    r"(?:我们|咱们|俺们|我(?!们)|咱(?!们)|俺(?!们))(?![市省区县局委办国镇乡厅处科院部州])"
    r"|本(?:公司|企业|单位|厂|店|社)"
    r"|(?<![须需由应其人者或及])本人(?!须|必须|亲自|到场|签字|签名|持|携带|授权|确认)"
)


def _quoted(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _QUOTED.finditer(text)]


def _first_person_spans(text: str) -> list[tuple[int, int]]:
    quotes = _quoted(text)
    return [m.span() for m in _FIRST_PERSON.finditer(text) if not any(s < m.start() < e for s, e in quotes)]


NUMBER_KINDS = frozenset(
    {Found.PHONE, Found.ID_NUMBER, Found.CREDIT_CODE, Found.ACCOUNT, Found.EMAIL, Found.IM, Found.PLATE}
)


def find_identity(text: str, parties: KnownParties | None = None, *, warning: bool = False) -> list[Finding]:
    """What ``text`` still says about a person, in the order it says it: names, companies, phone
    numbers, ID numbers, credit codes, accounts, addresses, plates, e-mail, QQ/WeChat, first-person
    self-descriptions, and case numbers. The departments concerned are not personal data; the
    official concerned is not either in a warning case (``warning=True``). An empty list means the
    text may be published."""
    parties = parties or KnownParties()
    original = text or ""
    # read what a reader sees: the skeleton of the text (see above), whose offsets map back to
    # ``original``; the known parties are read the same way
    text, where = _skeleton(original)
    folded = text
    departments = [_fold(d) for d in parties.departments if d]
    allowed = [m.span() for m in _terms_regex(departments).finditer(folded)] if departments else []
    if warning and parties.officials:
        allowed += [m.span() for m in _terms_regex(_fold(o) for o in parties.officials if o).finditer(folded)]
    found: list[Finding] = []

    def add(kind: Found, start: int, end: int) -> None:
        if end <= start or any(s <= start and end <= e for s, e in allowed):
            return
        if kind in (Found.ACCOUNT, Found.ID_NUMBER) and _DATE_SPAN.fullmatch(
            original, where[start], where[end - 1] + 1
        ):
            return  # 2026.03.15-2026.04.15: dates, not an account
        for other in found:
            if other.kind != Found.SELF and other.start <= start and end <= other.end:
                return  # already inside what was found (王建国 of 石门市王建国商贸有限公司)
            if (
                kind in NUMBER_KINDS
                and other.kind in NUMBER_KINDS
                and other.start < end
                and start < other.end
            ):
                return
        found.append(Finding(kind, text[start:end], start, end))

    def each(pattern: re.Pattern[str], kind: Found, group: int | str = 0, check=None) -> None:
        for m in pattern.finditer(folded):
            if check is None or check(m):
                add(kind, m.start(group), m.end(group))

    each(CASE_NUMBER, Found.CASE_NUMBER)
    each(EMAIL_ADDRESS, Found.EMAIL)
    for pattern in (QQ, WECHAT):
        for m in pattern.finditer(folded):
            add(Found.IM, m.end(1), m.end())
    for code in _clean_terms((re.sub(r"[^0-9A-Za-z]", "", _fold(c)) for c in parties.credit_codes if c), 15):
        # in any grouping: 9113 0102 MA0C KH7T 3L
        spaced = r"[\s\-–—·•./_]{0,3}".join(re.escape(ch) for ch in code)
        for m in re.finditer(rf"(?<![0-9A-Za-z]){spaced}(?![0-9A-Za-z])", folded, re.IGNORECASE):
            add(Found.CREDIT_CODE, *m.span())
    each(ID_CARD, Found.ID_NUMBER)
    each(CREDIT, Found.CREDIT_CODE, check=lambda m: _credit(m) == CREDIT_CODE)
    for m in ACCOUNT_AFTER_WORD.finditer(folded):
        add(Found.ACCOUNT, m.end(1), m.end())
    for phone in parties.reporter_phones:
        pattern = _digits_pattern(_fold(phone or ""))
        if pattern:
            each(pattern, Found.PHONE)
    for m in PHONE_AFTER_WORD.finditer(folded):
        add(Found.PHONE, m.end(1), m.end())
    for pattern in (MOBILE, SERVICE_NUMBER, LANDLINE, CHINESE_MOBILE, MIXED_MOBILE):
        each(pattern, Found.PHONE)
    for start, end in _split_mobile_spans(folded):
        add(Found.PHONE, start, end)
    # 幺三八，一二三四，五六七八: the pieces in words (one character each, so offsets hold)
    for start, end in _split_mobile_spans(folded.translate(_CN_DIGIT_VALUES)):
        add(Found.PHONE, start, end)
    for pattern in (LETTERED_MOBILE, PHONE_TAIL):
        each(pattern, Found.PHONE)
    for pattern in (ACCOUNT_RUN, ACCOUNT_GROUPED):
        each(pattern, Found.ACCOUNT)
    each(PLATE_NUMBER, Found.PLATE)
    for pattern in (STREET_ADDRESS, ESTATE_ADDRESS, VILLAGE_ADDRESS, RESIDENCE):
        for m in pattern.finditer(folded):
            start = m.start("name") + len(_district_part(m.group("name")) or "")
            add(Found.ADDRESS, start, m.end())
    each(BARE_UNITS, Found.ADDRESS)

    aliases = _clean_terms(a for c in parties.reporter_companies if c for a in _company_aliases(_fold(c)))
    if aliases:
        each(_terms_regex(aliases), Found.COMPANY)
    each(  # as redact reads it: without a separator only a registered name (我单位附近新开一家饭店)
        COMPANY_AFTER_TRIGGER,
        Found.COMPANY,
        "name",
        check=lambda m: bool(m.group("sep")) or m.group("name").endswith(("公司", "合作社")),
    )
    each(COMPANY_SELF, Found.COMPANY, "name")
    for start, end in _company_spans(folded):
        add(Found.COMPANY, start, end)
    # the known reporters, also by their given name alone (建国 of 张建国)
    reporters = [_fold(n) for n in parties.reporter_names if n and _fold(n)]
    names = _clean_terms(
        reporters
        + [n[_surname_length(n) :] for n in reporters if _is_cjk(n) and len(n) >= 4]
        + [n[1:] for n in reporters if _is_cjk(n) and len(n) == 3 and n[:2] not in COMPOUND_SURNAMES]
    )
    if names:
        each(_terms_regex(names), Found.NAME)
    # 张X建X国, 张1建2国, 恒(heng)达(da)建材: a known party with letters, digits or brackets between
    # its characters
    for terms, kind in ((names, Found.NAME), (aliases, Found.COMPANY)):
        interleaved = _interleaved_regex(terms)
        if interleaved:
            each(interleaved, kind)
    # （J.G.）: the initials of a known given name standing alone in brackets
    for n in reporters:
        if _is_cjk(n) and len(n) >= 3:
            for syllables in _syllables_of(n[_surname_length(n) :]):
                spelt = r"\.?\s*".join(w[0] for w in syllables)
                for m in re.finditer(rf"(?<=[(（])\s*{spelt}\.?\s*(?=[)）])", folded, re.IGNORECASE):
                    add(Found.NAME, *m.span())
    for start, end in sorted(_name_spans(folded)):
        add(Found.NAME, start, end)
    # the known parties in pinyin (Zhang Jianguo, jianguozhang), any other name in pinyin where a
    # name stands (反映人Zhang Jianguo)
    if reporters or aliases:
        for kind, start, end in _pinyin_party_spans(folded, _pinyin_forms(tuple(reporters), tuple(aliases))):
            add(kind, start, end)
    for start, end in _pinyin_name_spans(folded):
        add(Found.NAME, start, end)
    each(ENGLISH_COMPANY, Found.COMPANY)
    for start, end in _first_person_spans(folded):
        found.append(Finding(Found.SELF, _clause_head(text, start, end), start, end))
    if text != original:
        found = [_back(f, original, where) for f in found]
    return sorted(found, key=lambda f: (f.start, f.end))


_INVISIBLE = re.compile(
    rf"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]|(?<=[{CJK}])[ \t\u3000]+(?=[{CJK}])"
)


def _visible(text: str) -> tuple[str, list[int]]:
    """``text`` without invisible characters and without spaces between Chinese characters, and
    for each of its characters the offset in ``text``."""
    kept, where, pos = [], [], 0
    for m in _INVISIBLE.finditer(text):
        kept.append(text[pos : m.start()])
        where.extend(range(pos, m.start()))
        pos = m.end()
    kept.append(text[pos:])
    where.extend(range(pos, len(text)))
    return "".join(kept), where


# --- the skeleton the detector reads ---------------------------------------------------------
#
# What a reader sees is not what a regular expression sees: 張建國, 张·建·国, 张\u00a0建\u2002国,
# 张\u0301建\ufe0f国, 138.1234.5678, ①③⑧…, ¹³⁸…, 𝟏𝟑𝟖…, ١٣٨… all read as a name or a phone number.
# The detector therefore reads a skeleton of the text, one that maps each of its characters back
# to the character of the text it came from (the findings name the text as written):
# NFKC (full-width, superscript, circled, mathematical forms; compatibility ideographs), without
# format characters, combining marks, variation selectors and invisible letters, every digit as
# an ASCII digit, Traditional characters as Simplified ones (zhconv, character by character),
# and without what merely separates two Chinese characters, two digits, or a digit and a Latin
# letter (spaces of any width, · • - – / . _ ~ | ★ …). Clause punctuation (，。、；：！？) and
# brackets and quotes stay, except around a single Chinese character (张，建，国 / 张（建）国: a
# name spelt out one character at a time).

_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u034f\u17b4\u17b5")
# Cyrillic and Greek letters that look like Latin ones (Zhаng with a Cyrillic а reads Zhang)
_LATIN_LOOKALIKES = dict(
    zip(
        "АВЕКМНОРСТУХаеорсухіјѕһԁԛԝІЈЅΑΒΕΖΗΙΚΜΝΟΡΤΥΧαεικνορτυχ",
        "ABEKMHOPCTYXaeopcyxijshdqwIJSABEZHIKMNOPTYXaeikvoptux",
        strict=True,
    )
)
_DOTS_THAT_ARE_LETTERS = frozenset("\u318d\u119e\ua78f")  # ㆍ (NFKC: ᆞ) ꞏ: middle dots of other scripts
_CLAUSE_MARKS = frozenset("，。、；：！？,;:!?@%‰*'\"\n\r")  # not mere separators
_NOT_IN_A_CHAIN = frozenset("'\"“”‘’「」『』*\n\r")  # quotations stay quotations; 张*国 is masked


def _han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F


def _separator(ch: str) -> bool:
    if ch in _DOTS_THAT_ARE_LETTERS:
        return True
    return unicodedata.category(ch)[0] in "PZSC" and not 0xE000 <= ord(ch) <= 0xF8FF


def _joiner(ch: str) -> bool:
    """A character that only separates (a space, a dot, a dash, a slash, a symbol)."""
    if ch in _CLAUSE_MARKS:
        return False
    if ch in _DOTS_THAT_ARE_LETTERS:
        return True
    category = unicodedata.category(ch)
    return category in ("Zs", "Pd", "Pc", "Po", "Sm", "Sk", "So") or ch == "\t"


_to_simplified: Callable[[str], str] | None = None


def _simplified(ch: str) -> str:
    global _to_simplified
    if _to_simplified is None:
        import zhconv

        _to_simplified = zhconv.convert
    out = _to_simplified(ch, "zh-hans")
    return out if len(out) == 1 else ch


@lru_cache(maxsize=1 << 16)
def _fold_char(ch: str) -> str:
    """What one character of a text is in the skeleton (possibly nothing, possibly several)."""
    if ch in _INVISIBLE_LETTERS or unicodedata.category(ch) == "Cf":
        return ""
    if 0xFF01 <= ord(ch) <= 0xFF65 and unicodedata.category(ch)[0] in "PS":
        return ch  # full-width punctuation stays what the sentence rules read (，：（）)
    out = []
    for c in unicodedata.normalize("NFD", unicodedata.normalize("NFKC", ch)):
        category = unicodedata.category(c)
        if category in ("Mn", "Me", "Mc", "Cf") or c in _INVISIBLE_LETTERS:
            continue
        if category == "Zs":
            c = " "
        elif c in _LATIN_LOOKALIKES:
            c = _LATIN_LOOKALIKES[c]
        elif not "0" <= c <= "9":
            value = unicodedata.decimal(c, None)
            if value is None:
                value = unicodedata.digit(c, None)
            if value is not None:
                c = str(value)
            elif _han(c):
                c = _simplified(c)
        out.append(c)
    return "".join(out)


def _only_separates(chars: list[str], i: int, j: int) -> bool:
    """Whether the separators ``chars[i:j]`` only split two Chinese characters, two digits, or a
    digit and a Latin letter."""
    left, right = chars[i - 1], chars[j]
    if not all(_joiner(c) for c in chars[i:j]):
        return False
    if _han(left) and _han(right):
        return True
    if left.isdigit() and right.isdigit():
        return True
    if left.isascii() and right.isascii() and left.isalnum() and right.isalnum():
        # 冀A 12345, 9113 0102 MA0C: spaces and dashes only (163.com, li_1988@ stay e-mail)
        return (left.isdigit() or right.isdigit()) and all(
            c == "\t" or unicodedata.category(c) in ("Zs", "Pd") for c in chars[i:j]
        )
    return False


def _spells_out(chars: list[str], i: int, j: int) -> bool:
    """Whether the punctuation ``chars[i:j]`` stands next to a Chinese character standing alone
    (张，建，国 / 张（建）国: a word spelt out one character at a time)."""
    left, right = chars[i - 1], chars[j]
    if not (_han(left) and _han(right)) or j - i > 3 or any(c in _NOT_IN_A_CHAIN for c in chars[i:j]):
        return False
    return i < 2 or _separator(chars[i - 2]) or j + 1 >= len(chars) or _separator(chars[j + 1])


def _drop_separators(chars: list[str], origin: list[int], rule) -> tuple[list[str], list[int]]:
    keep = [True] * len(chars)
    i = 0
    while i < len(chars):
        if not _separator(chars[i]):
            i += 1
            continue
        j = i
        while j < len(chars) and _separator(chars[j]):
            j += 1
        if 0 < i and j < len(chars) and rule(chars, i, j):
            keep[i:j] = [False] * (j - i)
        i = j
    kept = [k for k in range(len(chars)) if keep[k]]
    return [chars[k] for k in kept], [origin[k] for k in kept]


def _skeleton(text: str) -> tuple[str, list[int]]:
    """The skeleton of ``text`` (see above) and, for each of its characters, the offset in
    ``text`` of the character it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for c in _fold_char(ch):
            chars.append(c)
            origin.append(i)
    chars, origin = _drop_separators(chars, origin, _only_separates)
    chars, origin = _drop_separators(chars, origin, _spells_out)
    return "".join(chars), origin


def _fold(text: str) -> str:
    return _skeleton(text or "")[0]


# A mobile number told in pieces (手机前三位138，中间1234，尾号5678): up to 11 runs of digits, each
# close to the next and none a quantity (150亩, 1200件, 98.5%), that make up 1[3-9]xxxxxxxxx.
_DIGIT_RUN = re.compile(r"(?<![A-Za-z])\d+(?![A-Za-z])")
_QUANTITY_AFTER = re.compile(
    r"\s*(?:元|万|亿|千|百|块|角|%|‰|美元|港元|年|月|日|号|时|点|分|秒|个|人|次|件|平方|亩|吨|米|公里|岁|天|周|小时"
    r"|家|名|户|条|项|倍|栋|幢|楼|层|室|单元|组|期|批|辆|台|套|份|页|类|种|所|座|处|间|级|位|笔|张|元)"
)
_SPLIT_GAP = 12  # characters between two pieces
# 1三8一二三四5六七八: a mobile number in digits and words mixed
_ANY_DIGIT = f"0-9{_CN_DIGIT}"
MIXED_MOBILE = re.compile(
    rf"(?<![{_ANY_DIGIT}])[1一壹幺][3-9三四五六七八九叁肆伍陆柒捌玖][{_ANY_DIGIT}]{{9}}(?![{_ANY_DIGIT}])"
)


def _split_mobile_spans(text: str) -> list[tuple[int, int]]:
    runs = [
        m
        for m in _DIGIT_RUN.finditer(text)
        if not _QUANTITY_AFTER.match(text, m.end()) and not text[max(0, m.start() - 1) : m.start()] == "第"
    ]
    spans = []
    for a, first in enumerate(runs):
        if not first.group().startswith("1"):
            continue
        digits = first.group()
        for b in range(a + 1, min(a + 11, len(runs))):
            gap = text[runs[b - 1].end() : runs[b].start()]
            if len(gap) > _SPLIT_GAP or "\n" in gap:
                break
            digits += runs[b].group()
            if len(digits) >= 11:
                if len(digits) == 11 and re.fullmatch(r"1[3-9]\d{9}", digits):
                    spans.append((first.start(), runs[b].end()))
                break
    return spans


_CN_DIGIT_VALUES = str.maketrans(  # 幺三八 → 138, one character for one (the offsets hold)
    "〇零一壹幺二贰两三叁四肆五伍六陆七柒八捌九玖", "0011122233445566778899"
)
# 138a1234b5678: a mobile number with single letters between its digits
LETTERED_MOBILE = re.compile(
    r"(?<![0-9A-Za-z])(?=\d{1,10}[A-Za-z]\d)1[A-Za-z]?[3-9](?:[A-Za-z]?\d){9}(?![0-9A-Za-z])"
)
# 尾号5678, 手机尾号是5678: the end of a phone number
PHONE_TAIL = re.compile(r"(?<=尾号)(?:是|为)?[:：]?\s*\d{4}(?!\d)")
# Hengda Building Materials Co., Ltd. / Hengda Company / Hengda Group: a company named in English
ENGLISH_COMPANY = re.compile(
    r"(?<![A-Za-z])[A-Z][A-Za-z&'-]+(?:[ ,]{1,2}[A-Z][A-Za-z&'-]*){0,6}[ ,]{1,2}"
    r"(?:Co\.?,?\s*Ltd\.?|Company(?: Limited)?|Inc\.?|Group|Corp(?:oration|\.)?|Limited|LLC)(?![A-Za-z])"
)
_INTERLEAVE = r"(?:[A-Za-z0-9]{1,2}|[(（][A-Za-z0-9]{1,8}[)）])?"


def _interleaved_regex(terms: Iterable[str]) -> re.Pattern[str] | None:
    """The Chinese terms with at most two letters or digits, or a bracketed pinyin syllable, between
    each two of their characters (and at least one such insertion)."""
    bodies = [_INTERLEAVE.join(re.escape(ch) for ch in t) for t in terms if _is_cjk(t) and len(t) >= 2]
    return re.compile("|".join(bodies)) if bodies else None


# --- pinyin --------------------------------------------------------------------------------
#
# A name or a company may be written in pinyin (Zhang Jianguo, zhangjianguo, Jianguo Zhang,
# ZHANG Jian-guo, Zhāng Jiànguó, zhang1 jian4 guo2). The known parties are found in any of these
# forms (pypinyin, all readings of each character: 单 dan/shan, 曾 zeng/ceng); any other name
# only where a name stands (after 反映人, 联系人, 我叫 … or in brackets after a Chinese name).

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_WORD_GAP = re.compile(r"[\s\-'’._·•/1-5]{0,4}")  # between the words of one name (tone numbers too)
_MAX_READINGS = 64


def _readings(text: str) -> list[str]:
    """The pinyin of ``text`` without tones, in each combination of its characters' readings
    (at most 64), ü written u, v and yu."""
    from itertools import product

    from pypinyin import Style, pinyin

    per_char = []
    for readings in pinyin(text, style=Style.NORMAL, heteronym=True, errors="ignore"):
        variants = set()
        for r in readings:
            r = re.sub(r"[^a-zü]", "", r.lower())
            variants |= {r.replace("ü", "u"), r.replace("ü", "v"), r.replace("ü", "yu")}
        per_char.append(sorted(v for v in variants if v))
    out = []
    for combo in product(*per_char):
        out.append("".join(combo))
        if len(out) >= _MAX_READINGS:
            break
    return out


@lru_cache(maxsize=512)
def _pinyin_forms(names: tuple[str, ...], companies: tuple[str, ...]) -> dict[str, Found]:
    """Every spelling in Latin letters (lower case, no separators) of the known names and companies."""
    forms: dict[str, Found] = {}
    for company in companies:
        if _is_cjk(company):
            for r in _readings(company):
                forms.setdefault(r, Found.COMPANY)
            form = next((f for f in LEGAL_FORMS if company.endswith(f) and len(company) > len(f)), None)
            if form:  # HENGDA公司: the name in pinyin, the legal form in Chinese
                for r in _readings(company[: -len(form)]):
                    forms.setdefault(r + "|" + form, Found.COMPANY)
    for name in names:
        if not _is_cjk(name):
            words = [w.lower() for w in _LATIN_WORD.findall(name)]
            if len("".join(words)) >= 4:
                forms["".join(words)] = forms["".join(reversed(words))] = Found.NAME
            continue
        if len(name) < 2:
            continue
        base = _surname_length(name)
        surnames, given = _readings(name[:base]), _readings(name[base:])
        for s in surnames:
            for g in given:
                forms[s + g] = forms[g + s] = Found.NAME
        if len(name) - base >= 2:
            for g in given:
                forms[g] = Found.NAME
        # in Wade-Giles (Chang Chien-kuo; the apostrophes are separators)
        for sur in _syllables_of(name[:base]):
            for giv in _syllables_of(name[base:]):
                wg_s, wg_g = _wade_giles_all(sur), _wade_giles_all(giv)
                for a in wg_s:
                    for b in wg_g:
                        forms.setdefault(a + b, Found.NAME)
                        forms.setdefault(b + a, Found.NAME)
        # the initials of the given name next to the surname (Zhang J.G., zhangjg, J.G. Zhang) and
        # all initials (zjg, Z.J.G.)
        initials = {"".join(w[0] for w in pinyin_words) for pinyin_words in _syllables_of(name[base:])}
        for s in surnames:
            for i in initials:
                forms.setdefault(s + i, Found.NAME)
                forms.setdefault(i + s, Found.NAME)
                if len(i) + 1 >= 3:
                    forms.setdefault(s[0] + i, Found.NAME)
    return forms


_WG_WHOLE = {"zi": "tzu", "ci": "tzu", "si": "ssu", "zhi": "chih", "chi": "chih", "shi": "shih", "ri": "jih"}
_WG_INITIALS = tuple(  # the two-letter initials first (zh before z)
    tuple(pair.split(":"))
    for pair in "zh:ch ch:ch sh:sh b:p p:p d:t t:t g:k k:k j:ch q:ch x:hs r:j z:ts c:ts".split()
)
_WG_FINALS = (("iong", "iung"), ("ong", "ung"), ("ian", "ien"), ("ie", "ieh"), ("ui", "uei"))


def _wade_giles(syllable: str) -> str:
    """A toneless pinyin syllable in Wade-Giles without apostrophes (zhang → chang, guo → kuo)."""
    if syllable in _WG_WHOLE:
        return _WG_WHOLE[syllable]
    initial, final = next(((p, w) for p, w in _WG_INITIALS if syllable.startswith(p)), ("", ""))
    rest = syllable[len(initial) :]
    for p, w in _WG_FINALS:
        if rest.endswith(p):
            rest = rest[: -len(p)] + w
            break
    if initial in ("d", "t", "n", "l", "z", "c", "s") and rest == "uo":
        rest = "o"
    if initial in ("g", "k", "h") and rest == "e":
        rest = "o"
    if not initial:
        rest = {"yan": "yen", "ye": "yeh", "yi": "i", "you": "yu"}.get(rest, rest)
    return final + rest


def _wade_giles_all(syllables: tuple[str, ...]) -> set[str]:
    return {"".join(_wade_giles(s) for s in syllables)}


def _syllables_of(text: str) -> list[tuple[str, ...]]:
    """The pinyin of ``text`` syllable by syllable, in each combination of readings (at most 64)."""
    from itertools import islice, product

    from pypinyin import Style, pinyin

    readings = pinyin(text, style=Style.NORMAL, heteronym=True, errors="ignore")
    per_char = [sorted({r for r in rs if r}) for rs in readings]
    return list(islice(product(*per_char), _MAX_READINGS))


def _latin_runs(text: str) -> list[list[re.Match[str]]]:
    """The Latin words of ``text`` grouped into runs written as one phrase."""
    runs: list[list[re.Match[str]]] = []
    for m in _LATIN_WORD.finditer(text):
        if runs and _WORD_GAP.fullmatch(text, runs[-1][-1].end(), m.start()):
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def _pinyin_party_spans(text: str, forms: dict[str, Found]) -> list[tuple[Found, int, int]]:
    """Where ``text`` spells one of ``forms`` in Latin words (the longest spelling from each word;
    HENGDA公司 with its legal form)."""
    spans: list[tuple[Found, int, int]] = []
    longest = max(map(len, forms), default=0)
    for run in _latin_runs(text):
        a = 0
        while a < len(run):
            joined, best = "", None
            for b in range(a, len(run)):
                joined += run[b].group().lower()
                if len(joined) > longest:
                    break
                end = run[b].end()
                if re.match(r"[1-5](?!\d)", text[end : end + 2]):
                    end += 1  # a tone number: guo2
                if joined in forms:
                    best = (forms[joined], b, end)
                after = re.match(r"\s*", text[end:]).end()
                form = next((f for f in LEGAL_FORMS if text.startswith(f, end + after)), None)
                if form and joined + "|" + form in forms:
                    best = (Found.COMPANY, b, end + after + len(form))
            if best is None:
                a += 1
                continue
            spans.append((best[0], run[a].start(), best[2]))
            a = best[1] + 1
    return spans


_syllables: frozenset[str] | None = None


def _pinyin_syllables() -> frozenset[str]:
    global _syllables
    if _syllables is None:
        from pypinyin.pinyin_dict import pinyin_dict

        found = set()
        for value in pinyin_dict.values():
            for reading in value.split(","):
                plain = "".join(
                    c for c in unicodedata.normalize("NFD", reading) if unicodedata.category(c) != "Mn"
                )
                found.add(plain.lower())
        _syllables = frozenset(found | {"lv", "nv", "lve", "nve", "lyu", "nyu"})
    return _syllables


@lru_cache(maxsize=1)
def _surname_syllables() -> frozenset[str]:
    return frozenset(r for s in SURNAMES | COMPOUND_SURNAMES for r in _readings(s))


def _syllable_count(word: str) -> int:
    """In how few pinyin syllables ``word`` is spelt (0: it is not pinyin)."""
    word, syllables = word.lower(), _pinyin_syllables()
    best = [0] + [99] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            if best[start] < 99 and word[start:end] in syllables:
                best[end] = min(best[end], best[start] + 1)
    return best[-1] if best[-1] < 99 else 0


def _pinyin_name_length(text: str, start: int) -> int:
    """The length of a name in pinyin at ``text[start]`` (Zhang Jianguo, Jianguo Zhang, ZHANG
    Jian-guo; 0: none): one to four words, two to four syllables, a surname first or last."""
    runs = _latin_runs(text[start:])
    if not runs or runs[0][0].start() != 0:
        return 0
    words = runs[0][:4]
    for n in range(len(words), 0, -1):
        chosen = [w.group() for w in words[:n]]
        counts = [_syllable_count(w) for w in chosen]
        if 0 in counts or not 2 <= sum(counts) <= 4:
            continue
        surnames = _surname_syllables()
        first, last = chosen[0].lower(), chosen[-1].lower()
        if first in surnames or last in surnames or any(first.startswith(s) for s in surnames if len(s) > 1):
            return words[n - 1].end()
    return 0


_PINYIN_PLACE = re.compile(rf"[{CJK}][（(]\s*(?=[A-Za-z])")


def _pinyin_name_spans(text: str) -> list[tuple[int, int]]:
    """Names in pinyin where a name stands: after a trigger or a role word (反映人Zhang Jianguo),
    or in brackets right after Chinese text (张某（Zhang Jianguo）), two words there."""
    spans = []
    for pattern in (_NAME_TRIGGER, _ROLE):
        for m in pattern.finditer(text):
            length = _pinyin_name_length(text, m.end())
            if length:
                spans.append((m.end(), m.end() + length))
    for m in _PINYIN_PLACE.finditer(text):
        length = _pinyin_name_length(text, m.end())
        if length and len(_latin_runs(text[m.end() : m.end() + length])[0]) >= 2:
            spans.append((m.end(), m.end() + length))
    return spans


_DATE_SPAN = re.compile(
    r"(?:19|20)\d{2}\W{1,3}\d{1,2}\W{1,3}\d{1,2}(?:\W{0,3}[-~—至到]\W{0,3}(?:(?:19|20)\d{2}\W{1,3})?\d{1,2}\W{1,3}\d{1,2})?"
)


def _back(finding: Finding, original: str, where: list[int]) -> Finding:
    start = where[finding.start] if finding.start < len(where) else len(original)
    end = where[finding.end - 1] + 1 if finding.end > finding.start else start
    text = finding.text if finding.kind == Found.SELF else original[start:end]
    return Finding(finding.kind, text, start, end)


def _terms_regex(terms: Iterable[str]) -> re.Pattern[str]:
    return re.compile(_alternation(sorted({t for t in terms if t}, key=lambda t: (-len(t), t))))


def _clause_head(text: str, start: int, end: int, width: int = 8) -> str:
    """The words a self-description starts with (我叫张建国), up to the end of the clause."""
    stop = re.search(r"[，。；！？,.;!?\n]", text[end:])
    limit = end + (stop.start() if stop else len(text) - end)
    return text[start : min(limit, start + width)]


def _replace_spans(text: str, spans: list[tuple[int, int]], repl: Callable[[str], str]) -> str:
    """``text`` with each span (the longest where they overlap) replaced by ``repl(span text)``."""
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if chosen and start < chosen[-1][1]:
            continue
        chosen.append((start, end))
    for start, end in reversed(chosen):
        text = text[:start] + repl(text[start:end]) + text[end:]
    return text


# --- the third person --------------------------------------------------------------------------

_CLAUSE = re.compile(r"[^，,]+[，,]?")
_SELF_INTRO = re.compile(
    rf"^\s*(?:(?:我|本人)(?:是|系|叫|名叫)?[{CJK}]{{0,2}}某某?\s*[，,]?$"
    r"|(?:我|本人)(?:叫|姓|名叫|是某某|系某某|某某|家住|家在|住在|住址|现住|居住|今年|现年|的?(?:电话|手机|联系方式"
    r"|联系电话|身份证|邮箱|微信|QQ|地址|住址|车牌))|名叫|姓名|联系人|联系电话|联系方式|电话|手机|座机|身份证|证件号"
    r"|邮箱|微信|QQ|住址|地址|家住|性别|年龄|现年|出生)"
)
REMOVED = (MASK, ID_NUMBER, CREDIT_CODE, ACCOUNT, EMAIL, PLATE, ADDRESS)
_NOT_AUTHORITY = r"(?![市省区县局委办国镇乡厅处科院部州])"
_SELF_REFERENCE = re.compile(rf"(?:我们|我方|咱们|俺们|我|咱|俺){_NOT_AUTHORITY}")
_PLAIN_BENREN = re.compile(r"(?<![须需由应其人者或及])本人(?!须|必须|亲自|到场|签字|签名|持|携带|授权|确认)")


def third_person(text: str, speaker: str = "反映人", organisation: str = "该企业") -> str:
    """The reporter's own words told in the third person: clauses that only say who wrote (我叫某某,
    我家住…, 电话***) are dropped, 我公司 → 该企业, 我/我们/本人 → 反映人, 我的/我家 → 其; quotations
    stay as they are. For a department's reply, ``speaker`` and ``organisation`` name the department."""
    pronouns = (
        (re.compile(r"(?:我们|我)(?:公司|单位|企业)|我司|本(?:公司|企业|单位)"), organisation),
        (re.compile(r"我们?厂|本厂"), "该厂"),
        (re.compile(r"我们?店|本店"), "该店"),
        (re.compile(r"我们?社|本社"), "该合作社"),
        (re.compile(r"(?:我们?|俺们?|咱们?)(?:家|的)"), "其"),
        (_SELF_REFERENCE, speaker),
        (_PLAIN_BENREN, speaker),
    )
    sentences = []
    for sentence in _SENTENCE.findall(text or ""):
        end = sentence[-1] if sentence[-1] in "。！？；!?;" else ""
        clauses = _CLAUSE.findall(sentence[: len(sentence) - len(end)])
        kept = [c for c in clauses if not _SELF_INTRO.match(c) and not any(m in c for m in REMOVED)]
        if not kept:
            continue
        body = "".join(kept)
        if body[-1] in "，,":
            body = body[:-1]
        body = _rewrite_outside_quotes(body, pronouns)
        body = re.sub(
            r"(该企业|该厂|该店|该合作社)[（(]?(?:某公司|某企业)[）)]?", r"\1", body
        )  # 我公司某公司
        sentences.append(body + end)
    return "".join(sentences) if text and text.strip() else (text or "")


_CASE_NUMBER_MENTION = re.compile(
    r"[（(]?(?:案件编号|工单编号|工单号|案件号|编号|案号)?\s*[:：为]?\s*"
    r"(?<![A-Za-z0-9])YS\d{6,}(?![0-9])[）)]?"
)


def for_publication(text: str, parties: KnownParties, *, warning: bool) -> str:
    """``text`` as a public document may carry it: redacted, in the third person, without case
    numbers (public documents never carry them)."""
    return _CASE_NUMBER_MENTION.sub("", third_person(redact(text, parties, warning=warning)))


def _rewrite_outside_quotes(text: str, rules) -> str:
    out, pos = [], 0
    for start, end in _quoted(text) + [(len(text), len(text))]:
        piece = text[pos:start]
        for pattern, word in rules:
            piece = pattern.sub(word, piece)
        out.append(piece + text[start:end])
        pos = end
    return "".join(out)


HEADING_LIMIT = 60
_HEADING_LEAD = re.compile(
    rf"^(?:(?:某公司|某企业|某某|反映人|该企业|企业|群众|个体户|[{CJK}]{{1,2}}某某?"
    rf"|[（(](?:某公司|某企业|某某|[{CJK}]{{1,2}}某)[）)])[、，,和与及\s]*)+"
    r"(?:实名举报|来电反映|反映|投诉|举报|称)?[:：，,\s]*"
)


def draft_heading(
    title: str,
    parties: KnownParties,
    *,
    warning: bool,
    category: str | None = None,
    department: str | None = None,
) -> str:
    """The public heading of a typical case, built from the redacted title in the third person:
    石门市恒达建材有限公司张建国反映施工许可被要求缴纳无依据费用 → 某企业反映施工许可被要求缴纳无依据费用.
    When what is left still holds personal data, the heading names only the department and the
    category (群众反映长安区行政审批局“推诿扯皮”问题)."""
    text = re.sub(r"\s+", "", for_publication(title or "", parties, warning=warning)).strip("。；，,;：:")
    company = bool(parties.reporter_companies or parties.credit_codes) or bool(
        re.match(r"某(?:公司|企业)", text)
    )
    who = "某企业" if company else "群众"
    rest = re.sub(r"^关于", "", _HEADING_LEAD.sub("", text))
    rest = re.sub(r"[（(][^）)]*(?:某|反映|投诉|举报)[^）)]*[）)]$", "", rest)
    rest = re.sub(r"的?(?:投诉|举报|反映)$", "", rest).strip("，,。；：: ")  # 关于…超时的投诉 → …超时
    place = _clean(department) or "相关部门"
    generic = f"{who}反映{place}" + (f"存在“{_clean(category)}”问题" if category else "有关问题")
    heading = f"{who}反映{rest}" if rest else generic
    if len(heading) > HEADING_LIMIT:
        heading = heading[: HEADING_LIMIT - 1] + "…"
    if find_identity(heading, parties, warning=warning):
        heading = generic[:HEADING_LIMIT]
    return heading


# --- the draft summary -------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
RESULT_WORDS = (
    "处分",
    "问责",
    "追责",
    "批评",
    "约谈",
    "诫勉",
    "通报",
    "整改",
    "责令",
    "免职",
    "调离",
    "撤销",
    "纠正",
    "立案",
    "警告",
    "记过",
    "依规依纪",
    "党纪",
    "政务处分",
)
PRACTICE_WORDS = (
    "主动",
    "上门",
    "协调",
    "优化",
    "压缩",
    "当日",
    "当天",
    "提前",
    "专班",
    "容缺",
    "帮办",
    "代办",
    "并联",
    "现场",
    "跟踪",
    "回访",
    "一次性",
    "承诺",
    "机制",
    "制度",
    "办结",
)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _trim(text: str, limit: int = PARAGRAPH_LIMIT) -> str:
    """``text`` in at most ``limit`` characters, cut after a sentence if one ends late enough."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(mark) for mark in "。！？；")
    if end >= limit // 2:
        return head[: end + 1]
    return head[: limit - 1] + "…"


def _sentences(text: str, words: tuple[str, ...]) -> str:
    return "".join(s.strip() for s in _SENTENCE.findall(text) if any(w in s for w in words))


def _substance(text: str) -> str:
    """The sentences of a redacted text that say something besides who wrote it: 「电话***，邮箱
    [邮箱已删除]。」 is dropped (all of ``text`` if nothing else is left)."""
    markers = (MASK, ID_NUMBER, CREDIT_CODE, ACCOUNT, EMAIL, PLATE)
    kept = "".join(s.strip() for s in _SENTENCE.findall(text) if not any(m in s for m in markers))
    return kept or text


def _sentence_end(text: str) -> str:
    return text if not text or text[-1] in "。！？；…" else text + "。"


def draft_summary(
    *,
    title: str,
    content: str,
    reply: str | None,
    category: str,
    department: str | None,
    official: str | None,
    parties: KnownParties,
    warning: bool,
) -> str:
    """The automatic draft of a typical case: three paragraphs (基本情况, 办理情况, then 处理结果及警示
    for a warning case or 经验做法 for an exemplary one) of at most 600 characters each, built from
    the redacted title, content and reply. The supervisor edits it before a leader approves it."""
    department = _clean(department) or None
    official = _clean(official) or None
    parties = replace(
        parties,
        departments=parties.departments + ((department,) if department else ()),
        officials=parties.officials + ((official,) if official else ()),
    )

    place = department or "相关部门"

    def public(text: str | None) -> str:  # the reporter's words: redacted, in the third person
        return _clean(for_publication(text or "", parties, warning=warning))

    title, content = public(title), public(content)
    reply = third_person(redact(reply or "", parties, warning=warning), speaker=place, organisation=place)
    reply = _clean(_CASE_NUMBER_MENTION.sub("", reply))
    category = _clean(category)
    who = "有企业" if parties.reporter_companies or parties.credit_codes else "有群众"

    about = f"反映{department}" if department else "反映"
    basic = f"一、基本情况。{who}通过“营商110”平台{about}"
    basic += f"存在“{category}”问题。" if category else "有关问题。"
    title = re.sub(r"^关于", "", _HEADING_LEAD.sub("", title))  # 某公司张某反映… → the matter itself
    if title:
        basic += f"反映事项：{_sentence_end(title)}"
    if content:
        basic += f"主要内容：{_substance(content)}"

    handled = "二、办理情况。" + (
        _sentence_end(reply) if reply else f"{place}受理后组织核查办理，办理结果待补充。"
    )

    if warning:
        who_there = f"{place}工作人员{official}" if official else place
        result = _sentences(reply, RESULT_WORDS) or "处理结果待补充。"
        lesson = (
            f"三、处理结果及警示。{result}{who_there}在办理企业和群众诉求中"
            + (f"存在“{category}”问题，" if category else "作风不实，")
            + "损害了营商环境和政府公信力。各地各部门要引以为戒、举一反三，严格落实首问负责、"
            "一次性告知和限时办结等制度，坚决杜绝类似问题再次发生。"
        )
    else:
        practice = _sentences(reply, PRACTICE_WORDS)
        lesson = (
            "三、经验做法。"
            + (practice or f"{place}接诉后快速响应、主动对接，依法依规高效解决诉求。")
            + "该做法切实提升了企业和群众的获得感，各地各部门要学习借鉴，持续优化营商环境。"
        )

    paragraphs = (basic, handled, lesson)
    return "\n\n".join(
        _trim(_CASE_NUMBER_MENTION.sub("", redact(p, parties, warning=warning))) for p in paragraphs
    )
