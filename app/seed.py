"""Default reference data drawn from the rulebook: categories, calendar, policies, settings."""

from __future__ import annotations

from app.deadlines import DEFAULT_POLICIES
from app.services.calendar import seed_official_calendar
from app.services.settings import seed_settings
from models import Category, DeadlinePolicy

# (code, name, children): the default category tree (DOMAIN.md, seeds 000–004).
DEFAULT_CATEGORIES = [
    (
        "GOV",
        "政务服务",
        [
            ("GOV01", "审批超时限"),
            ("GOV02", "办事推诿扯皮"),
            ("GOV03", "材料反复要求、多次跑动"),
            ("GOV04", "窗口服务态度差"),
        ],
    ),
    (
        "ENF",
        "行政执法",
        [
            ("ENF01", "多头检查"),
            ("ENF02", "随意罚款"),
            ("ENF03", "选择性执法"),
            ("ENF04", "以罚代管"),
            ("ENF05", "重复检查"),
        ],
    ),
    ("POL", "政策落实", [("POL01", "承诺补贴不兑现"), ("POL02", "惠企政策不落实"), ("POL03", "拖欠账款")]),
    ("FEE", "涉企收费", [("FEE01", "违规收费"), ("FEE02", "中介乱收费"), ("FEE03", "摊派和强制捐赠")]),
    (
        "INT",
        "干部作风",
        [
            ("INT01", "吃拿卡要"),
            ("INT02", "推诿扯皮"),
            ("INT03", "不作为慢作为"),
            ("INT04", "泄露举报信息、打击报复"),
        ],
    ),
]


def seed_categories(session) -> None:
    """Store the default category tree (skipping codes that exist)."""
    known = {code for (code,) in session.query(Category.code)}
    for order, (code, name, children) in enumerate(DEFAULT_CATEGORIES):
        parent = session.query(Category).filter_by(code=code).one_or_none()
        if parent is None:
            parent = Category(code=code, name=name, sort_order=order)
            session.add(parent)
        for child_order, (child_code, child_name) in enumerate(children):
            if child_code not in known:
                session.add(Category(code=child_code, name=child_name, parent=parent, sort_order=child_order))
    session.flush()


def seed_policies(session) -> None:
    """Store the default deadline policies if none exist."""
    if session.query(DeadlinePolicy).count():
        return
    for policy in DEFAULT_POLICIES:
        session.add(
            DeadlinePolicy(
                case_type=policy.case_type,
                urgency=policy.urgency,
                multi_department=policy.multi_department,
                working_days=policy.working_days,
            )
        )
    session.flush()


def seed_reward_tiers(session) -> None:
    """Store the default reward tiers (DOMAIN.md, seed 000) if none exist."""
    from app.rewards import DEFAULT_TIERS
    from models import RewardTier

    if session.query(RewardTier).count():
        return
    for code, name, low, high in DEFAULT_TIERS:
        session.add(RewardTier(code=code, name=name, min_yuan=low, max_yuan=high))
    session.flush()


def seed_reference_data(session) -> None:
    """Seed everything a fresh installation needs before its first case."""
    seed_official_calendar(session)
    seed_reward_tiers(session)
    seed_categories(session)
    seed_policies(session)
    seed_settings(session)
    from app.services.early_warnings import seed_models

    seed_models(session)
    from app.services.enterprises import seed_inspection_items

    seed_inspection_items(session)
