"""Similar open cases for the intake clerk (pure: no Flask, no database).

When a clerk opens a new case, the platform lists open cases that probably concern the same matter
so the clerk can link them or merge duplicates. A candidate is shown when

* it shares a party with the case -- the same unified social credit code, the same company name
  once normalised, or the same department concerned (被反映单位) -- and its text is similar
  (``text_similarity >= threshold``, 0.3 by default), or
* it shares no party but its text is nearly the same (``>= cross_party_threshold``, 0.6 by
  default) and it comes from the same prefecture (the first four digits of the region code), e.g.
  a complaint posted again under another name.

Text similarity is the cosine of two weighted bags of words: jieba segments title and content
(precise mode, with a small domain dictionary), stop words, punctuation and meaningless single
characters are dropped, numbers are kept, and a word of the title weighs twice a word of the
content.
"""

from __future__ import annotations

import heapq
import logging
import math
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "CROSS_PARTY_THRESHOLD",
    "CaseText",
    "DEFAULT_THRESHOLD",
    "find_similar",
    "normalise_company",
    "normalise_credit_code",
    "same_party",
    "text_similarity",
    "tokens",
]

DEFAULT_THRESHOLD = 0.3  # with a shared party: the same matter retold in other words scores ~0.4–0.7
CROSS_PARTY_THRESHOLD = 0.6  # without one: near-copies only; unrelated complaints score ~0–0.1
TITLE_WEIGHT = 2.0  # a word of the title counts twice a word of the content (both: 3)
REGION_PREFIX = 4  # administrative code digits compared: 省 2 + 市 2 (prefecture)


@dataclass(frozen=True)
class CaseText:
    id: int
    title: str
    content: str
    company: str | None = None  # reporter's company name (None for anonymous)
    credit_code: str | None = None  # 18-char unified social credit code
    department_id: int | None = None  # department concerned (被反映单位)
    region: str = ""


# --- segmentation ------------------------------------------------------------------------------

# Terms of the trade jieba's default dictionary splits (施工许可 → 施工 / 许可) or might split.
DOMAIN_WORDS = (
    # licences, procedures
    "营业执照",
    "施工许可",
    "施工许可证",
    "规划许可",
    "规划许可证",
    "排污许可证",
    "消防验收",
    "竣工验收",
    "联合验收",
    "不动产登记",
    "不动产权证",
    "社会信用代码",
    "统一社会信用代码",
    "容缺受理",
    "一网通办",
    "一窗受理",
    "最多跑一次",
    "一次性告知",
    "首问负责制",
    "限时办结",
    "告知承诺制",
    "政务服务中心",
    "政务服务",
    "办事窗口",
    # departments
    "行政审批局",
    "审批局",
    "市场监管局",
    "市场监督管理局",
    "住建局",
    "住房城乡建设局",
    "自然资源局",
    "生态环境局",
    "人社局",
    "城管局",
    "综合执法局",
    "应急管理局",
    "发改委",
    "税务局",
    "公安局",
    "消防救援大队",
    # money
    "配套费",
    "保证金",
    "质保金",
    "工程款",
    "拖欠账款",
    "留抵退税",
    "中介费",
    "服务费",
    # conduct complained of
    "吃拿卡要",
    "推诿扯皮",
    "门难进",
    "脸难看",
    "事难办",
    "不作为",
    "慢作为",
    "乱作为",
    "乱收费",
    "乱罚款",
    "乱摊派",
    "乱检查",
    "多头检查",
    "重复检查",
    "以罚代管",
    "中介机构",
    "营商环境",
    "刁难",
)

# Function words and the filler of almost every complaint ("请求相关部门尽快解决"); words that
# say what the complaint is about (审批, 收费, 罚款, 拖欠, 执照 …) are deliberately absent.
STOP_WORDS = frozenset(
    """
的 地 得 了 着 过 是 在 有 为 以 于 之 其 此 而 则 或 但 并 且 又 再 即 乃 亦 及 与 和 跟 同 对 向 往
从 自 由 被 把 将 给 让 使 叫 比 按 经 据 至 到 去 来 上 下 中 内 外 里 前 后 这 那 哪 个 些 种 次
啊 吗 呢 吧 呀 嘛 哦 哈 么 之后 之前 以后 以前 以来 以及 以便 以上 以下 以内
我 你 您 他 她 它 我们 你们 他们 她们 它们 咱们 自己 本人 我方 贵 各位 大家 人家 别人
我司 本公司 公司 企业 单位 该 本 各 每 某 某某
这个 那个 这些 那些 这样 那样 这种 那种 这里 那里 这边 那边 这么 那么 怎么 怎样 如何 什么 为何 为什么
一个 一些 一直 一下 一次 一再 一起 一样 一般 一定 多次 多 很多 许多 非常 十分 特别 比较 更 最 太 很
没有 没 不 不是 已经 已 还 还是 就 都 也 只 仅 才 却 便 仍 仍然 依然 总是 始终 再次 曾 曾经
要 想 会 能 能够 可以 可 应 应该 应当 需要 需 必须 得到 希望 恳请 请 请求 恳求 要求 申请人
说 讲 称 表示 认为 觉得 知道 告诉 回复 答复 反映 投诉 举报 咨询 来电 来信
问题 情况 事情 事项 相关 有关 方面 工作 进行 开展 予以 给予 加以 作出 做出 办法 方式 部门 领导 政府
帮助 帮忙 解决 处理 协调 落实 尽快 及时 立即 马上 早日 重视 关注 督促 核实 调查 查处
如下 目前 现在 当前 至今 迄今 现 今 当时 时候 期间 之间 其中 其他 其它 另外 此外 同时 然后 后来 最后 最终
因为 因 所以 因此 由于 但是 可是 然而 而且 并且 如果 即使 虽然 尽管 只要 只有 无论 不管 或者 还有
等 等等 等到 之类 左右 通过 根据 按照 关于 对于 作为 为了 除了 随着 针对 依据 导致 造成
下来 起来 出来 过来 回来 两个 严重 影响 万分 感谢 谢谢 您好 你好 此致 敬礼
""".split()
)

# Single characters that say something on their own; every other one-character token (局, 市, 区,
# 办 …) is dropped.
MEANINGFUL_SINGLES = frozenset(
    "税 费 款 钱 证 照 罚 贷 房 水 电 气 暖 路 桥 厂 矿 店 车 货 粮 油 煤 章".split()
)

_NUMBER_SPLIT = re.compile(r"(\d+(?:\.\d+)?)")  # capturing: split() keeps the numbers
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_WORDLIKE = re.compile(r"\w")  # letters (incl. CJK) and digits; punctuation and symbols are not

_tokenizer = None  # jieba.Tokenizer, built by _jieba()
_tokenizer_lock = threading.Lock()


def _jieba():
    """The module's own jieba tokenizer, loaded on first use (~0.5 s) with the domain words.

    A private ``jieba.Tokenizer`` keeps the domain dictionary out of the process-wide default
    one that other code may use.
    """
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in DOMAIN_WORDS:
                    tokenizer.add_word(word)
                _tokenizer = tokenizer
    return _tokenizer


def _normalise_text(text: str) -> str:
    # NFKC folds full-width letters, digits and punctuation (２０２４ → 2024, ＡＢＣ → ABC).
    return unicodedata.normalize("NFKC", text or "").lower()


def _keep(token: str) -> bool:
    if not token or token in STOP_WORDS or not _WORDLIKE.search(token):
        return False
    if _NUMBER.match(token):
        return True  # amounts, dates, counts matter
    if len(token) == 1:
        return token in MEANINGFUL_SINGLES
    return True


@lru_cache(maxsize=16384)
def tokens(text: str) -> frozenset[str]:
    """The meaningful words of ``text``: jieba precise mode, lower-cased, without stop words,
    punctuation, whitespace and meaningless single characters; numbers are kept. Cached.

    Full-width characters are folded first (NFKC). jieba's HMM guessing of unknown words is off:
    it glues stray function characters into one-off "words" (日向区, 说交, 元后) that differ from
    one retelling to the next, where the dictionary alone leaves single characters to be dropped.
    """
    normalised = _normalise_text(text)
    if not normalised.strip():
        return frozenset()
    words: list[str] = []
    # Numbers are cut out first: jieba would split 128.5 into 128 / . / 5.
    for i, piece in enumerate(_NUMBER_SPLIT.split(normalised)):
        if i % 2:
            words.append(piece)
        elif piece.strip():
            words.extend(w.strip() for w in _jieba().lcut(piece, HMM=False))
    return frozenset(w for w in words if _keep(w))


# --- text similarity ---------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _vector(title: str, content: str) -> tuple[dict[str, float], float]:
    """Weighted bag of words of a case (title words weigh ``TITLE_WEIGHT``) and its norm."""
    title_words, content_words = tokens(title), tokens(content)
    weights = dict.fromkeys(content_words, 1.0)
    for word in title_words:
        weights[word] = weights.get(word, 0.0) + TITLE_WEIGHT
    return weights, math.sqrt(sum(w * w for w in weights.values()))


def text_similarity(a: CaseText, b: CaseText) -> float:
    """Cosine similarity in [0, 1] of the two cases' weighted words, rounded to 4 places.

    0 when either text has no meaningful word.
    """
    va, na = _vector(a.title or "", a.content or "")
    vb, nb = _vector(b.title or "", b.content or "")
    if not na or not nb:
        return 0.0
    if len(va) > len(vb):
        va, vb = vb, va
    dot = sum(w * vb[t] for t, w in va.items() if t in vb)
    return round(min(1.0, dot / (na * nb)), 4)


# --- parties -----------------------------------------------------------------------------------

# Legal-form suffixes, longest first, so 有限责任公司 is not read as 有限公司 after 责任.
_COMPANY_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "(有限合伙)",
    "(普通合伙)",
    "合伙企业",
    "有限合伙",
    "公司",
)
# What is left of a bare legal form once a suffix is stripped ("有限公司" → "有限").
_LEGAL_FORM_WORDS = frozenset(
    {"有限", "有限责任", "责任", "股份", "股份有限", "集团", "合伙", "企业", "公司"}
)
# What reporters type when they have no company.
_NO_COMPANY = frozenset(
    {
        "无",
        "没有",
        "暂无",
        "个人",
        "本人",
        "匿名",
        "不详",
        "未知",
        "-",
        "/",
        "null",
        "none",
        "n/a",
    }
)
_SPACE_AND_QUOTES = re.compile(r"[\s\"'“”‘’《》<>「」]+")
# GB 32100-2015: 18 characters from the digits and the capitals except I, O, S, V, Z.
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def normalise_company(name: str | None) -> str | None:
    """Comparable company name: full/half-width folded, spaces and quotes removed, lower-cased, the
    legal-form suffix (有限公司, 有限责任公司, 股份有限公司 …) stripped; None if nothing is left
    that could name a company (None, "", "无", "个人", …)."""
    if not name:
        return None
    text = _SPACE_AND_QUOTES.sub("", unicodedata.normalize("NFKC", name)).lower()
    if text in _NO_COMPANY:
        return None
    stripped = True
    while stripped:  # "…有限公司(有限合伙)" and the like
        stripped = False
        for suffix in _COMPANY_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, stripped = text[: -len(suffix)], True
                break
    # A bare legal form ("公司", "有限公司") or a single character names no one in particular.
    if len(text) < 2 or text in _LEGAL_FORM_WORDS:
        return None
    return text


def normalise_credit_code(code: str | None) -> str | None:
    """The credit code upper-cased without spaces, or None unless it has the 18-character form.

    A placeholder of one repeated character (000000000000000000) is None too.
    """
    if not code:
        return None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", code)).upper()
    if not _CREDIT_CODE.match(text) or len(set(text)) == 1:
        return None
    return text


def same_party(a: CaseText, b: CaseText) -> bool:
    """Same unified social credit code, same normalised company name, or same department
    concerned. Unknown values (None, empty, placeholders) never match each other."""
    code_a, code_b = normalise_credit_code(a.credit_code), normalise_credit_code(b.credit_code)
    if code_a is not None and code_a == code_b:
        return True
    name_a, name_b = normalise_company(a.company), normalise_company(b.company)
    if name_a is not None and name_a == name_b:
        return True
    return a.department_id is not None and a.department_id == b.department_id


def _same_region(a: CaseText, b: CaseText) -> bool:
    """Same prefecture (first ``REGION_PREFIX`` characters); an unknown region does not exclude."""
    ra, rb = (a.region or "").strip(), (b.region or "").strip()
    if not ra or not rb:
        return True
    if "/" in ra or "/" in rb:  # a region path such as 清源省/石门市/长河县: compare province/city
        return ra.split("/")[:2] == rb.split("/")[:2]
    return ra[:REGION_PREFIX] == rb[:REGION_PREFIX]


# --- search ------------------------------------------------------------------------------------


def find_similar(
    target: CaseText,
    candidates: Iterable[CaseText],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    limit: int = 5,
    cross_party_threshold: float = CROSS_PARTY_THRESHOLD,
) -> list[tuple[int, float]]:
    """``(case id, similarity)`` of the candidates like ``target``, best first, at most ``limit``.

    A candidate qualifies when it shares a party with the target (``same_party``) and its
    similarity is at least ``threshold``, or when it shares none but comes from the same
    prefecture and its similarity is at least ``cross_party_threshold`` (never below
    ``threshold``). Ties go to the lower id; the target itself (same id) is never returned, and a
    candidate listed twice appears once.
    """
    if limit <= 0:
        return []
    cross = max(threshold, cross_party_threshold)
    best: dict[int, float] = {}
    for case in candidates:
        if case.id == target.id:
            continue
        score = text_similarity(target, case)
        if score < threshold:  # cheap test first; same_party normalises names
            continue
        if (score >= cross and _same_region(target, case)) or same_party(target, case):
            if score > best.get(case.id, -1.0):
                best[case.id] = score
    return heapq.nsmallest(limit, best.items(), key=lambda item: (-item[1], item[0]))
