"""The case figures' rollup: every additive figure of the dashboard, the bulletin and the
assessment report about the cases themselves (登记, 受理, 办结, their breakdowns and the clocks of
the seeds), per calendar month (Beijing time), jurisdiction and department complained about,
so a year is a few rows per jurisdiction and month instead of every case filed in it (issue 18).

``CaseFigureMonth.figures`` maps a figure's name to its count (``app.services.case_figures``
names them). A month's rows are exact while the month is in ``CaseFigureBuilt`` and no
``CaseFigureStale`` marker names it. The markers are written by database triggers (the
migration ``f9c0d1e2f3a4``) on every change of a case or assignment, by any path: the ORM, a
bulk statement, SQL typed by hand; a change of a department's level or a category's parent
(what a breakdown groups by) forgets every built month. Markers are appended, never upserted,
so no two writers wait on one row; a refresh deletes exactly the markers it read."""

from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, Date, DateTime, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column


class CaseFigureMonth(Model):
    """The figures of one month of the cases of one jurisdiction about one department (None:
    about none); the clocks' overdue counts as they stood at the month's ``built_at``."""

    __tablename__ = "case_figure_month"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, nullable=False)  # the 1st, Asia/Shanghai
    jurisdiction_id: Mapped[int | None] = mapped_column(Integer)
    concerned_department_id: Mapped[int | None] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column(JSON, nullable=False)

    __table_args__ = (Index("ix_case_figure_month_month", "month"),)


class CaseFigureStale(Model):
    """A month whose rows no longer hold (append-only, written by the triggers)."""

    __tablename__ = "case_figure_stale"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, nullable=False)

    __table_args__ = (Index("ix_case_figure_stale_month", "month"),)


class CaseFigureBuilt(Model):
    """A month whose rows were computed, and when (its overdue counts hold as of then)."""

    __tablename__ = "case_figure_built"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
