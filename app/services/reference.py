"""Rules for reference data that administrators edit."""

from __future__ import annotations

from app.enums import DeptLevel
from app.errors import Invalid
from app.workflow import N_

# Province → city → county: the level a parent must have.
PARENT_LEVEL = {
    DeptLevel.PROVINCE: None,
    DeptLevel.CITY: DeptLevel.PROVINCE,
    DeptLevel.COUNTY: DeptLevel.CITY,
}


def _parent(session, department):
    if department.parent is not None or department.parent_id is None:
        return department.parent
    from models import Department

    return session.get(Department, department.parent_id)


def validate_department(session, department) -> None:
    """Refuse a department whose parent does not sit one level up, or that would be its own
    ancestor (escalation climbs this tree)."""
    with session.no_autoflush:  # never flush the half-edited row while checking it
        _validate_department(session, department)


def _validate_department(session, department) -> None:
    try:
        level = DeptLevel(department.level) if department.level else None
    except ValueError:  # a level that does not exist, typed or sent by hand
        level = None
    if level is None:
        raise Invalid(N_("Choose the department's level."))
    parent = _parent(session, department)
    expected = PARENT_LEVEL[level]
    if expected is None and parent is not None:
        raise Invalid(N_("A province-level department has no parent."))
    if expected is not None and (parent is None or DeptLevel(parent.level) != expected):
        raise Invalid(
            N_("The parent of a %(level)s department must be at the level above."), level=_level_label(level)
        )
    seen = {department.id}
    while parent is not None:
        if parent.id in seen:
            raise Invalid(N_("A department cannot be placed under itself."))
        seen.add(parent.id)
        parent = _parent(session, parent)


def _level_label(level: DeptLevel) -> str:
    from flask_babel import gettext

    from app.enums import LABELS

    return gettext(LABELS[level])
