"""The draft of a bulletin's 问题分析 and 下一步工作要求, proposed from its figures (plain data,
:class:`reports.bulletin.BulletinData`). The supervisor's office edits the draft before a
leader publishes; what it typed replaces the draft. One string per paragraph, Chinese."""

from __future__ import annotations

from reports.bulletin import DASH, BulletinData, change, pct, point_change, share

PREVIOUS = {"month": "上月", "quarter": "上季度", "year": "上年"}


def _against(current: int, base: int | None, series: str) -> str:
    """ "，较上月上升12.5%" (nothing when there is no base to compare with)."""
    text = change(current, base)
    if text == DASH:
        return ""
    return f"，与{PREVIOUS[series]}{text}" if text == "持平" else f"，较{PREVIOUS[series]}{text}"


def analysis(b: BulletinData) -> list[str]:
    f, series = b.figures, b.series
    base = f.previous if series != "year" else f.year_ago
    paragraphs = []
    if f.hot_categories:
        top = f.hot_categories[0]
        text = (
            f"从反映的问题看，反映最多的问题是“{top.label}”，共{top.value}件，"
            f"占登记总量的{share(top.value, f.filed)}{_against(top.value, top.previous, series)}"
        )
        others = [f"“{h.label}”（{h.value}件）" for h in f.hot_categories[1:3]]
        if others:
            text += "；其次是" + "、".join(others)
        paragraphs.append(text + "。")
    if f.closed:
        text = (
            f"从办理时效看，{b.period_label}办结{f.closed}件，其中按时办结{f.on_time}件，"
            f"按时办结率{pct(f.on_time_rate)}"
        )
        moved = point_change(f.on_time_rate, base.on_time_rate if base else None)
        if moved != DASH:
            text += f"，较{PREVIOUS[series]}{moved}" if moved != "持平" else f"，与{PREVIOUS[series]}持平"
        text += "。"
        if f.late_departments:
            named = "、".join(f"{d.label}（{pct(d.rate)}）" for d in f.late_departments)
            text += f"{named}按时办结率低于平均水平（{pct(f.on_time_rate)}），超期办结问题较为突出。"
        paragraphs.append(text)
    if f.rated:
        unsatisfied = f.rated - f.satisfied
        text = (
            f"从群众评价看，办结件中已评价{f.rated}件，满意和基本满意{f.satisfied}件，"
            f"满意率{pct(f.satisfaction_rate)}"
        )
        text += f"，不满意{unsatisfied}件，需跟踪回访、推动重办。" if unsatisfied else "。"
        paragraphs.append(text)
    if f.hot_departments:
        named = "、".join(f"{h.label}（{h.value}件）" for h in f.hot_departments[:3])
        paragraphs.append(
            f"从被反映单位看，被反映较多的是{named}，相关单位要认真查找作风和制度上的薄弱环节。"
        )
    if f.founded:
        paragraphs.append(
            f"经核查属实或部分属实的投诉举报{f.founded}件，整改经复核通过{f.rectified}件，"
            "整改落实仍需加强跟踪问效。"
        )
    if not paragraphs:
        paragraphs.append(f"{b.period_label}，{b.area}未登记投诉举报。")
    return paragraphs


NUMERALS = "一二三四五六七八九十"


def requirements(b: BulletinData) -> list[str]:
    f = b.figures
    paragraphs = []
    if f.late_departments:
        named = "、".join(d.label for d in f.late_departments)
        paragraphs.append(
            f"压实办理责任。{named}要对照本期通报，逐件分析超期原因，明确整改措施和责任人，"
            f"并将整改情况书面报送{b.issuer}。"
        )
    else:
        paragraphs.append("压实办理责任。各承办单位要严格落实签收、办理、答复时限，确需延期的按规定申请。")
    if f.hot_categories:
        paragraphs.append(
            f"聚焦突出问题。针对反映集中的“{f.hot_categories[0].label}”等问题，相关主管部门要举一反三，"
            "开展专项排查整治，从源头上减少同类投诉。"
        )
    paragraphs.append(
        "提升群众满意度。各承办单位要加强与企业和群众的沟通，对评价不满意的工单及时回访、重新办理，"
        "做到问题解决到位、答复解释到位。"
    )
    if f.founded:
        paragraphs.append(
            "抓好整改落实。对核查属实的投诉举报，责任单位要按期完成整改并报送佐证材料，经复核通过后方可办结。"
        )
    return [f"（{NUMERALS[i]}）{text}" for i, text in enumerate(paragraphs)]
