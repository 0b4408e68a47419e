"""Screens and REST APIs: thin callers of the services."""

from flask import current_app
from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

from app.workflow import N_
from views import compat  # noqa: F401  (display fixes for FAB's forms)


def _blueprint(appbuilder, view_class):
    return next(v.blueprint for v in appbuilder.baseviews if isinstance(v, view_class))


def _title(msgid: str, view) -> LazyString:
    return LazyString(lambda: gettext(msgid, name=str(view.list_title)))


def translate_default_titles(appbuilder) -> None:
    """FAB titles the pages it generates in English ("Show Reward Tier", "Add Ineligible
    Person") unless a view names them: derive them from the view's translated list title."""
    from flask_appbuilder import ModelView

    for view in appbuilder.baseviews:
        if not isinstance(view, ModelView):
            continue
        for attr, prefix, msgid in (
            ("show_title", "Show ", N_("%(name)s: details")),
            ("add_title", "Add ", N_("%(name)s: add")),
            ("edit_title", "Edit ", N_("%(name)s: edit")),
        ):
            if isinstance(getattr(view, attr), str) and getattr(view, attr).startswith(prefix):
                setattr(view, attr, _title(msgid, view))


def register_views(appbuilder) -> None:
    """Add every screen and API to the AppBuilder (menu order is the order here)."""
    from views import (
        api,
        cases,
        dashboard,
        identity,
        inspection_stats,
        jurisdictions,
        public,
        publication,
        reference,
        rewards,
        supervision,
        warnings,
    )

    add = appbuilder.add_view
    add(
        cases.CaseIntakeView,
        "New case",
        label=_l("New case"),
        icon="fa-plus",
        category="Cases",
        category_label=_l("Cases"),
        category_icon="fa-folder-open",
    )
    add(cases.IntakeQueueView, "Intake queue", label=_l("Intake queue"), icon="fa-inbox", category="Cases")
    add(
        cases.DispatchQueueView,
        "Dispatch queue",
        label=_l("Dispatch queue"),
        icon="fa-random",
        category="Cases",
    )
    add(
        cases.DepartmentCaseView,
        "My department's cases",
        label=_l("My department's cases"),
        icon="fa-briefcase",
        category="Cases",
    )
    add(
        cases.SupervisionQueueView,
        "Awaiting supervision",
        label=_l("Awaiting supervision"),
        icon="fa-gavel",
        category="Cases",
    )
    add(
        cases.OverdueCaseView,
        "Overdue cases",
        label=_l("Overdue cases"),
        icon="fa-exclamation-triangle",
        category="Cases",
    )
    add(cases.CaseView, "All cases", label=_l("All cases"), icon="fa-list", category="Cases")
    appbuilder.add_view_no_menu(cases.CaseActionView)

    supervise = {"category": "Supervision", "category_label": _l("Supervision"), "category_icon": "fa-bell"}
    add(
        supervision.NoticeView,
        "Supervision notices",
        label=_l("Supervision notices"),
        icon="fa-file-text",
        **supervise,
    )
    add(
        supervision.NoticeActionView,
        "Interview notice",
        label=_l("Interview notice"),
        href="/notices/act/interview",
        icon="fa-comments",
        **supervise,
    )
    add(
        warnings.WarningView,
        "Early warnings",
        label=_l("Early warnings"),
        icon="fa-exclamation-circle",
        **supervise,
    )
    appbuilder.add_view_no_menu(warnings.WarningActionView)
    add(
        identity.IdentityRequestQueueView,
        "Identity requests to decide",
        label=_l("Identity requests to decide"),
        icon="fa-user-secret",
        **supervise,
    )
    add(
        identity.IdentityRequestView,
        "Identity requests",
        label=_l("Identity requests"),
        icon="fa-history",
        **supervise,
    )
    appbuilder.add_view_no_menu(identity.IdentityRequestActionView)
    add(supervision.RevisitTaskView, "Revisit calls", label=_l("Revisit calls"), icon="fa-phone", **supervise)
    add(supervision.InboxView, "My inbox", label=_l("My inbox"), icon="fa-envelope", **supervise)
    add(supervision.OutboxView, "Outbox", label=_l("Outbox"), icon="fa-paper-plane", **supervise)
    add(
        supervision.QueueMonitorView,
        "Queues and jobs",
        label=_l("Queues and jobs"),
        icon="fa-tasks",
        **supervise,
    )

    add(
        dashboard.DashboardView,
        "Dashboard",
        label=_l("Dashboard"),
        icon="fa-bar-chart",
        category="Publication",
        category_label=_l("Publication"),
        category_icon="fa-newspaper-o",
    )
    publish = {
        "category": "Publication",
        "category_label": _l("Publication"),
        "category_icon": "fa-newspaper-o",
    }
    add(publication.TypicalCaseView, "Typical cases", label=_l("Typical cases"), icon="fa-star", **publish)
    add(
        publication.ReportArchiveView,
        "Bulletins and reports",
        label=_l("Bulletins and reports"),
        icon="fa-file-pdf-o",
        **publish,
    )
    add(
        publication.ReportActionView,
        "Generate a report",
        label=_l("Generate a report"),
        href="/reports/act/request",
        icon="fa-cog",
        **publish,
    )
    appbuilder.add_view_no_menu(publication.TypicalActionView)
    appbuilder.add_view_no_menu(publication.PublicBulletinView)

    inspect = {"category": "Inspections", "category_label": _l("Inspections"), "category_icon": "fa-search"}
    add(
        inspection_stats.InspectionView,
        "Inspection register",
        label=_l("Inspection register"),
        icon="fa-list",
        **inspect,
    )
    add(
        inspection_stats.InspectionStatsView,
        "Inspection counts and flags",
        label=_l("Inspection counts and flags"),
        icon="fa-flag",
        **inspect,
    )

    money = {"category": "Rewards", "category_label": _l("Rewards"), "category_icon": "fa-gift"}
    add(rewards.RewardView, "Rewards", label=_l("Rewards"), icon="fa-gift", **money)
    add(
        rewards.RewardActionView,
        "Reward totals",
        label=_l("Reward totals"),
        href="/rewards/act/totals",
        icon="fa-calculator",
        **money,
    )

    config = {"category": "Configuration", "category_label": _l("Configuration"), "category_icon": "fa-cogs"}
    add(
        jurisdictions.JurisdictionView,
        "Jurisdictions",
        label=_l("Jurisdictions"),
        icon="fa-university",
        **config,
    )
    add(reference.DepartmentView, "Departments", label=_l("Departments"), icon="fa-sitemap", **config)
    add(reference.CategoryView, "Categories", label=_l("Categories"), icon="fa-tags", **config)
    add(
        reference.DispatchRuleView,
        "Dispatch rules",
        label=_l("Dispatch rules"),
        icon="fa-code-fork",
        **config,
    )
    add(
        reference.DeadlinePolicyView,
        "Deadline policies",
        label=_l("Deadline policies"),
        icon="fa-clock-o",
        **config,
    )
    add(
        reference.CalendarYearView, "Calendar years", label=_l("Calendar years"), icon="fa-calendar", **config
    )
    add(
        reference.CalendarDayView,
        "Holidays and make-up workdays",
        label=_l("Holidays and make-up workdays"),
        icon="fa-calendar-o",
        **config,
    )
    add(
        reference.ServiceWindowView,
        "Service windows",
        label=_l("Service windows and QR codes"),
        icon="fa-qrcode",
        **config,
    )
    from views import enterprises

    add(
        enterprises.EnterpriseView,
        "Enterprises",
        label=_l("Enterprises"),
        icon="fa-building",
        category="Inspections",
        category_label=_l("Inspections"),
        category_icon="fa-search",
    )
    add(
        enterprises.InspectionItemView,
        "Inspection bases and items",
        label=_l("Inspection bases and items"),
        icon="fa-list-ul",
        **config,
    )
    add(
        enterprises.EnforcementOfficerView,
        "Enforcement officers",
        label=_l("Enforcement officers"),
        icon="fa-id-badge",
        **config,
    )
    add(reference.RewardTierView, "Reward tiers", label=_l("Reward tiers"), icon="fa-trophy", **config)
    add(
        reference.IneligiblePersonView,
        "Not eligible for rewards",
        label=_l("Not eligible for rewards"),
        icon="fa-ban",
        **config,
    )
    add(warnings.WarningModelView, "Warning models", label=_l("Warning models"), icon="fa-sliders", **config)
    add(reference.SettingView, "Settings", label=_l("Settings"), icon="fa-sliders", **config)
    # Per-level rules (issue 15): a jurisdiction's own values, its regional holidays, and
    # what is in force there with where each rule comes from.
    add(
        reference.JurisdictionSettingView,
        "Jurisdiction settings",
        label=_l("Jurisdiction settings"),
        icon="fa-sliders",
        **config,
    )
    add(
        reference.HolidayPresetView,
        "Regional holidays",
        label=_l("Regional holidays"),
        icon="fa-calendar-plus-o",
        **config,
    )
    add(
        reference.EffectiveRulesView,
        "Effective rules",
        label=_l("Effective rules"),
        icon="fa-list-alt",
        **config,
    )

    from views import inspect as inspect_views

    add(
        inspect_views.InspectorView,
        "My inspections",
        label=_l("My inspections"),
        icon="fa-mobile",
        category="Inspections",
        category_label=_l("Inspections"),
        category_icon="fa-search",
    )
    appbuilder.add_view_no_menu(inspect_views.EnterpriseConfirmView)
    appbuilder.sm.limiter.limit(lambda: current_app.config["TRACKING_RATE_LIMIT"], methods=["POST"])(
        _blueprint(appbuilder, inspect_views.EnterpriseConfirmView)
    )
    appbuilder.add_view_no_menu(public.PublicReportView)
    appbuilder.add_view_no_menu(public.PublicTrackView)
    limiter = appbuilder.sm.limiter
    limiter.limit(lambda: current_app.config["FILING_RATE_LIMIT"], methods=["POST"])(
        _blueprint(appbuilder, public.PublicReportView)
    )
    from flask_appbuilder.security.api import SecurityApi

    limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])(
        _blueprint(appbuilder, SecurityApi)
    )
    track = _blueprint(appbuilder, public.PublicTrackView)
    limiter.limit(lambda: current_app.config["TRACKING_RATE_LIMIT"], methods=["POST"])(track)
    limiter.shared_limit(
        lambda: current_app.config["TRACKING_GLOBAL_RATE_LIMIT"],
        scope="tracking",
        key_func=lambda: "everyone",
        methods=["POST"],
    )(track)

    appbuilder.add_api(api.CaseApi)
    appbuilder.add_api(api.CaseEventApi)
    appbuilder.add_api(api.RewardApi)
    for reference_api in api.REFERENCE_APIS:
        appbuilder.add_api(reference_api)
    translate_default_titles(appbuilder)
