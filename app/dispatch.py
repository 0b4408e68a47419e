"""Dispatch rule matching: category / region / keywords → department (pure).

The most specific matching rule wins; between rules equally specific, the one set by the nearer
jurisdiction (the case's own office before its city, the city before the province, the province
before the rules of every jurisdiction), then the higher priority, then the lower rule id, so the
proposal is deterministic. A department the case accuses is never proposed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: int
    department_id: int
    category_id: int | None = None
    region: str | None = None
    keywords: tuple[str, ...] = ()
    priority: int = 0
    # How near the case the jurisdiction that set the rule is: 0 for a rule of every
    # jurisdiction, then 1 for the root, 2 for a city... (the depth of its jurisdiction).
    nearness: int = 0


@dataclass(frozen=True)
class CaseFacts:
    category_path: Sequence[int]  # the case's category first, then its ancestors
    region: str
    text: str


def parse_keywords(raw: str | None) -> tuple[str, ...]:
    """Split a keyword list written with commas, Chinese commas, semicolons or spaces."""
    if not raw:
        return ()
    for sep in "，、;；\n\t \u3000":  # \u3000: the full-width space of Chinese input
        raw = raw.replace(sep, ",")
    return tuple(k.strip() for k in raw.split(",") if k.strip())


def _score(rule: Rule, facts: CaseFacts) -> tuple | None:
    """Return the rule's specificity for these facts, or None if it does not match."""
    category_score = 0
    if rule.category_id is not None:
        if rule.category_id not in facts.category_path:
            return None
        # A rule for the case's own category beats one for an ancestor.
        category_score = len(facts.category_path) - list(facts.category_path).index(rule.category_id)
    region_score = 0
    if rule.region:
        if not (facts.region or "").startswith(rule.region):
            return None
        region_score = len(rule.region)
    keyword_score = 0
    if rule.keywords:
        hits = [k for k in rule.keywords if k in (facts.text or "")]
        if not hits:
            return None
        keyword_score = len(hits)
    criteria = sum(bool(x) for x in (rule.category_id, rule.region, rule.keywords))
    return (criteria, category_score, region_score, keyword_score, rule.nearness, rule.priority, -rule.id)


def propose_department(
    rules: Iterable[Rule], facts: CaseFacts, excluded_departments: Iterable[int] = ()
) -> Rule | None:
    """Return the winning rule for a case, never one that routes to an excluded department."""
    excluded = set(excluded_departments)
    best, best_score = None, None
    for rule in rules:
        if rule.department_id in excluded:
            continue
        score = _score(rule, facts)
        if score is not None and (best_score is None or score > best_score):
            best, best_score = rule, score
    return best
