"""Reward screens: the list with filters, the reward with its ledger, proposing from a case,
approvals, payment (Finance only sees payment details), and totals."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app import clock
from app.errors import DomainError, Invalid
from app.extensions import db
from app.rewards import REWARD_LABELS, PayMethod, RewardState, allowed_reward_actions
from app.services import cases as case_services
from app.services import rewards as reward_services
from app.services import visibility
from app.workflow import N_, Role
from models import Department, Reward, RewardTier
from views.common import attempt, current_actor, local_time
from views.filters import ClauseFilter
from views.forms import LazySelectField


def reward_label(value) -> str:
    return gettext(REWARD_LABELS[value]) if value in REWARD_LABELS else str(value or "")


class RewardView(ModelView):
    datamodel = SQLAInterface(Reward)
    route_base = "/rewards"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", ClauseFilter, visibility.visible_rewards_clause]]  # seen when its case is
    base_order = ("id", "desc")
    list_title = _l("Rewards")
    list_columns = [
        "case",
        "tier",
        "amount_yuan",
        "department",
        "status",
        "proposed_at",
        "payment_due_at",
        "paid_at",
    ]
    search_columns = ["status", "tier", "department", "proposed_at", "paid_at"]
    label_columns = {
        "case": _l("Case"),
        "tier": _l("Tier"),
        "amount_yuan": _l("Amount (yuan)"),
        "department": _l("Department concerned"),
        "status": _l("State"),
        "proposed_at": _l("Proposed at"),
        "payment_due_at": _l("Pay by"),
        "paid_at": _l("Paid at"),
    }
    formatters_columns = {
        "status": reward_label,
        "proposed_at": local_time,
        "payment_due_at": local_time,
        "paid_at": local_time,
    }
    search_form_extra_fields = {
        "status": LazySelectField(
            _l("State"),
            choices_factory=lambda: [("", "—")] + [(s.value, reward_label(s)) for s in RewardState],
        )
    }

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        reward = self.datamodel.get(pk, self._base_filters)
        if reward is None:
            abort(404)
        actor = current_actor()
        staff_actions = [
            a
            for a in allowed_reward_actions(reward.status, actor.roles)
            if a in reward_services.REWARD_SERVICES
        ]
        details = (
            reward_services.payment_details(db.session, reward.id, actor=actor)
            if Role.FINANCE in actor.roles
            else None
        )
        return self.render_template(
            "rewards/show.html",
            reward=reward,
            actions=staff_actions,
            label=reward_label,
            local_time=local_time,
            details=details,
            methods=[(m.value, reward_label(m)) for m in PayMethod],
            title=_l("Reward"),
            appbuilder=self.appbuilder,
        )


class RewardActionView(BaseView):
    route_base = "/rewards/act"

    @expose("/<int:reward_id>/<action>", methods=["POST"])
    @has_access
    def act(self, reward_id, action):
        service = reward_services.REWARD_SERVICES.get(action)
        if service is None:
            abort(404)
        if not DynamicForm().validate_on_submit():
            flash(_l("The form could not be submitted; please try again."), "danger")
            return redirect(url_for("RewardView.show", pk=reward_id))
        params = {k: v for k, v in request.form.items() if k in ("note", "method", "reference")}
        g.back = url_for("RewardView.show", pk=reward_id)
        try:
            service(db.session, reward_id, actor=current_actor(), now=clock.utcnow(), **params)
        except TypeError:
            raise Invalid(N_("Invalid parameters for this action.")) from None
        flash(_l("Done: %(action)s.", action=reward_label(action)), "success")
        return redirect(url_for("RewardView.show", pk=reward_id))

    @expose("/propose/<int:case_id>", methods=["GET", "POST"])
    @has_access
    def propose(self, case_id):
        actor = current_actor()
        try:
            case = case_services.get_case(db.session, case_id, actor)
        except DomainError:
            abort(404)
        if request.method == "POST":
            if not DynamicForm().validate_on_submit():
                flash(_l("The form could not be submitted; please try again."), "danger")
            else:
                reward, error = attempt(
                    lambda: reward_services.propose_reward(
                        db.session,
                        case_id,
                        actor=actor,
                        now=clock.utcnow(),
                        reporter_id=request.form.get("reporter_id"),
                        tier_id=request.form.get("tier_id"),
                        amount=request.form.get("amount"),
                        reasons=request.form.get("reasons"),
                        evidence=request.form.get("evidence"),
                        interested_party=bool(request.form.get("interested_party")),
                        split=bool(request.form.get("split")),
                    )
                )
                if error is None:
                    return redirect(url_for("RewardView.show", pk=reward.id))
                flash(error.message, "danger")
        tiers = reward_services.tiers_for(db.session, case)  # the case's jurisdiction's tiers
        return self.render_template(
            "rewards/propose.html",
            case=case,
            tiers=list(tiers),
            # The split choice only where there are several reporters (merged duplicates).
            may_split=reward_services.may_split(case),
            standing=reward_services.live_rewards(db.session, case.id),
            label=reward_label,
            title=_l("Propose a reward"),
            appbuilder=self.appbuilder,
        )

    @expose("/totals", methods=["GET"])
    @has_access
    def totals(self):
        """Net amounts paid per tier and department in a period (default: this year)."""
        now, actor = clock.utcnow(), current_actor()
        try:
            start = datetime.fromisoformat(request.args.get("from") or f"{now.year}-01-01")
            end = datetime.fromisoformat(request.args.get("to") or f"{now.year + 1}-01-01")
            last_day = (end - timedelta(days=1)).date()
        except (ValueError, OverflowError):  # not a date, or the first day there is (0001-01-01)
            start, end = datetime(now.year, 1, 1), datetime(now.year + 1, 1, 1)
            last_day = (end - timedelta(days=1)).date()
        # a jurisdiction's own tier of a code is named with its jurisdiction (长河县's tier2)
        tiers = {
            t.id: f"{t}（{t.jurisdiction}）" if t.jurisdiction_id else str(t)
            for t in db.session.query(RewardTier)
        }
        departments = {d.id: d.name for d in db.session.query(Department)}
        by_tier = [
            (tiers.get(k, "—"), total, count)
            for k, total, count in reward_services.paid_totals(db.session, start, end, "tier", actor)
        ]
        by_department = [
            (departments.get(k, "—"), total, count)
            for k, total, count in reward_services.paid_totals(db.session, start, end, "department", actor)
        ]
        return self.render_template(
            "rewards/totals.html",
            by_tier=by_tier,
            by_department=by_department,
            start=start.date(),
            end=last_day,
            title=_l("Reward totals"),
            appbuilder=self.appbuilder,
        )
