"""The leaders' dashboard: the same figures as the bulletin and the assessment (one definition),
plus hot spots — rising categories and departments, repeated complaints about one window or one
official. Set-based queries only."""

from __future__ import annotations

from sqlalchemy import func, select

from app.services import assessment as kpi
from models import Case, Category, Department, ServiceWindow


def previous_period(period: kpi.Period) -> kpi.Period:
    length = period.end - period.start
    return kpi.Period(period.start - length, period.start, "")


def _counts(session, column, period: kpi.Period) -> dict:
    rows = session.execute(
        select(column, func.count())
        .where(column.isnot(None), Case.created_at >= period.start, Case.created_at < period.end)
        .group_by(column)
    ).all()
    return dict(rows)


def _rising(now: dict, before: dict, names: dict, limit: int = 5) -> list[dict]:
    rows = [
        {
            "name": names.get(key, str(key)),
            "id": key,
            "now": count,
            "before": before.get(key, 0),
            "change": count - before.get(key, 0),
        }
        for key, count in now.items()
        if count >= 2 and count > before.get(key, 0)
    ]
    return sorted(rows, key=lambda r: (-r["change"], -r["now"], str(r["name"])))[:limit]


def hot_spots(session, period: kpi.Period) -> dict[str, list[dict]]:
    before = previous_period(period)
    categories = {c.id: str(c) for c in session.query(Category)}
    departments = {d.id: d.name for d in session.query(Department)}
    windows = {w.id: str(w) for w in session.query(ServiceWindow)}
    department_column = func.coalesce(Case.concerned_department_id, Case.lead_department_id)
    windows_now = _counts(session, Case.window_id, period)
    officials_now = _counts(session, Case.concerned_official, period)
    return {
        "categories": _rising(
            _counts(session, Case.category_id, period), _counts(session, Case.category_id, before), categories
        ),
        "departments": _rising(
            _counts(session, department_column, period),
            _counts(session, department_column, before),
            departments,
        ),
        "windows": sorted(
            ({"name": windows.get(k, str(k)), "id": k, "now": n} for k, n in windows_now.items() if n >= 2),
            key=lambda r: (-r["now"], r["name"]),
        )[:5],
        "officials": sorted(
            ({"name": k, "now": n} for k, n in officials_now.items() if n >= 2),
            key=lambda r: (-r["now"], r["name"]),
        )[:5],
    }
