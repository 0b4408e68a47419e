"""The content of a supervision notice (提醒敦促函, 整改通知书, 约谈通知书, 交办函), taken once in the
issuing transaction and frozen in ``Notice.document``: plain final Chinese text in the shape of the
notice document contract (version 1), from which the PDF is rendered (reports/notice.py). A later
change to a department, a case, the office's name, contact, 抄送 line or seal never changes an
issued notice.

Documents are always in Chinese, whatever the interface language: nothing here goes through
gettext. The facts a batch needs are read in a few batched statements (:class:`Facts`), never
one per notice: the sweep issues hundreds at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from app.clock import local_date, to_local
from app.services import visibility
from app.services.bulk import any_of
from app.supervision import KIND_OF_CAUSE, NoticeCause, NoticeKind, cause_key
from models import Assignment, Case, Department, Jurisdiction, Notice, Reward
from models.supervision import notice_case

VERSION = 1

# Where each cause's subject names what went wrong ("assignment:12", "reward:3", "merge:7").
_ASSIGNMENT_CAUSES = (NoticeCause.UNSIGNED, NoticeCause.OVERDUE, NoticeCause.OVERDUE_AFTER_REMINDER)

# The rule each kind is issued under (经营主体反映问题响应处置机制, 督办环节工作程序; DOMAIN.md 004).
BASIS = {
    NoticeKind.REMINDER: (
        "按照经营主体反映问题响应处置机制督办环节工作程序的规定，对无故不签收工单、超期未办、"
        "多次反映未办等情形，向承办单位发出《提醒敦促函》日常督办，限期办结"
    ),
    NoticeKind.RECTIFICATION: (
        "按照经营主体反映问题响应处置机制督办环节工作程序的规定，对推诿扯皮、同一工单2次办理结果"
        "不满意和多次申请办结不规范等情形，向承办单位发出《整改通知书》挂牌督办，并列入月度监测通报"
    ),
    NoticeKind.INTERVIEW: (
        "按照经营主体反映问题响应处置机制督办环节工作程序的规定，对弄虚作假、违规办理、失职渎职、"
        "违反保密规定和打击报复等情形，造成重大不良影响的，向承办单位发出《约谈通知书》约谈督办"
    ),
    NoticeKind.ASSIGNMENT: (
        "按照营商环境投诉举报分级分类办理的规定，经分级认定为一般性营商环境问题（C类）的，"
        "交由职能部门核查整改"
    ),
}

# What each cause asks of the department ("{reply}": the reply date; "{we}": 我局, 我办...;
# "{issuer}": the office's name).
DEMANDS = {
    NoticeCause.UNSIGNED: (
        "请你单位立即签收上述工单，指定专人按规定时限办理，并于{reply}前将签收及办理情况书面答复{we}。"
    ),
    NoticeCause.OVERDUE: (
        "请你单位立即组织办理，尽快办结并答复经营主体，并于{reply}前将办理情况及逾期原因书面答复{we}。"
    ),
    NoticeCause.REPORTED_AGAIN: (
        "请你单位立即组织办理，一并回应经营主体的重复反映，并于{reply}前将办理情况书面答复{we}。"
    ),
    NoticeCause.REWARD_UNPAID: "请你单位立即兑付上述举报奖励，并于{reply}前将兑付情况书面答复{we}。",
    NoticeCause.REPEATED_RETURNS: (
        "请你单位高度重视，立即停止推诿，按职责牵头办理，查明多次退回的原因，明确整改措施、"
        "责任人和整改时限，并于{reply}前将整改情况书面报告{we}。"
    ),
    NoticeCause.TWO_UNSATISFIED: (
        "请你单位高度重视，重新核查经营主体反映的问题，切实解决合理合法诉求，明确整改措施、"
        "责任人和整改时限，并于{reply}前将整改情况书面报告{we}。"
    ),
    NoticeCause.OVERDUE_AFTER_REMINDER: (
        "请你单位高度重视，立即办结上述工单，查明逾期原因，明确整改措施、责任人和整改时限，"
        "并于{reply}前将整改情况书面报告{we}。"
    ),
    NoticeCause.IMPROPER_CLOSE_REQUESTS: (
        "请你单位高度重视，严格按照办结标准办理，不得以不规范的答复申请办结，明确整改措施、"
        "责任人和整改时限，并于{reply}前将整改情况书面报告{we}。"
    ),
    NoticeCause.GRADE_C_ASSIGNMENT: (
        "请你单位按照“受理—核查—整改—反馈—公示”的要求，指定专人认真核查；对查实的问题，明确整改"
        "措施、责任人和整改时限，限期整改到位，并于{reply}前通过平台答复核查和整改情况，"
        "整改完成情况及佐证材料报{issuer}复核。"
    ),
    NoticeCause.SUPERVISOR_DECISION: (
        "请你单位接到通知后认真准备，按时参加约谈，并于{reply}前将整改情况书面报告{we}。"
    ),
    NoticeCause.WARNING_REMINDER: (
        "请你单位高度重视预警提示的问题，认真核查原因，及时改进，并于{reply}前将核查及改进情况书面答复{we}。"
    ),
    NoticeCause.WARNING_RECTIFICATION: (
        "请你单位高度重视预警提示的问题，深入查找原因，明确整改措施、责任人和整改时限，"
        "并于{reply}前将整改情况书面报告{we}。"
    ),
}

CLOSINGS = {
    NoticeKind.REMINDER: "逾期仍未办结或答复的，将按规定发出《整改通知书》挂牌督办，并纳入营商环境考核。",
    NoticeKind.RECTIFICATION: (
        "本通知书所列问题列入月度监测通报。逾期未报告或整改不到位的，"
        "将按规定予以约谈督办，并纳入营商环境考核。"
    ),
    NoticeKind.INTERVIEW: "无正当理由不参加约谈或约谈后整改不到位的，将按规定予以通报，并纳入营商环境考核。",
    NoticeKind.ASSIGNMENT: (
        "办理中注意保护举报人信息，严禁泄露举报人身份。逾期未答复或整改不到位的，"
        "将按规定予以督办通报并纳入营商环境考核。"
    ),
}

# How other notices already issued on a case are named in an interview's facts.
KIND_NAMES = {
    NoticeKind.REMINDER: "提醒敦促函",
    NoticeKind.RECTIFICATION: "整改通知书",
    NoticeKind.INTERVIEW: "约谈通知书",
    NoticeKind.ASSIGNMENT: "交办函",
}


def cn_date(value: date | datetime | None) -> str:
    """2026年8月4日 (no leading zeros; the same rule as reports/pdf.py, which services may not import)."""
    return "—" if value is None else f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime | None) -> str:
    """2026年8月4日9时30分 (minutes left out on the hour); ``value`` in local time."""
    if value is None:
        return "—"
    return f"{cn_date(value)}{value.hour}时{f'{value.minute}分' if value.minute else ''}"


def _local(moment: datetime | None) -> datetime | None:
    return to_local(moment) if moment is not None else None


def _when(moment: datetime | None) -> str:
    """A stored deadline as a document states it: the day alone for one that ends with the day
    (23:59 local), else the day and time."""
    local = _local(moment)
    if local is not None and (local.hour, local.minute) == (23, 59):
        return cn_date(local)
    return cn_datetime(local)


def _we(authority: str) -> str:
    """How the office names itself in its own letter: 我局, 我办, 我委 … (else 我单位)."""
    last = (authority or "")[-1:]
    return f"我{last}" if last in "局办委厅室处署" else "我单位"


def lines(text: str | None) -> list[str]:
    """The non-empty lines of a typed text (one 抄送 office, one material per line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _subject_id(subject: str) -> int | None:
    head, _, rest = subject.partition(":")
    text = rest.split(":", 1)[0]
    return int(text) if head and text.isdigit() else None


@dataclass(frozen=True)
class Meeting:
    """The arrangements of an interview (约谈): when (naive UTC), where, who attends, what to bring."""

    at: datetime
    place: str
    attendees: str
    materials: tuple[str, ...] = ()


def _load(session, model, ids: Iterable[int]) -> dict[int, object]:
    """Rows by id: those already in the session as they are, the others in one statement."""
    found, missing = {}, []
    key_of = sa_inspect(model).identity_key_from_primary_key  # (identity_key() inspects per call)
    for row_id in set(ids):
        row = session.identity_map.get(key_of((row_id,)))
        if row is None:
            missing.append(row_id)
        else:
            found[row_id] = row
    if missing:
        found.update(
            (row.id, row)
            for row in session.execute(select(model).where(any_of(session, model.id, missing))).scalars()
        )
    return found


class Facts:
    """What the documents of one batch of drafts state, read in a few batched statements: the
    cases, the departments, the assignments and rewards the causes are about, the reminder
    letters a rectification follows, and (interviews) the notices already issued on a case."""

    def __init__(self, session, drafts: Sequence) -> None:
        self.session = session
        case_ids = {i for d in drafts for i in d.case_ids}
        merged = {_subject_id(d.subject) for d in drafts if d.cause == NoticeCause.REPORTED_AGAIN}
        self.cases = _load(session, Case, case_ids | (merged - {None}))
        self.departments = _load(session, Department, {d.department_id for d in drafts})
        self.assignments = _load(
            session,
            Assignment,
            {_subject_id(d.subject) for d in drafts if d.cause in _ASSIGNMENT_CAUSES} - {None},
        )
        rewards = {_subject_id(d.subject) for d in drafts if d.cause == NoticeCause.REWARD_UNPAID} - {None}
        self.rewards = _load(session, Reward, rewards) if rewards else {}
        reminders = [
            cause_key(NoticeCause.OVERDUE, d.subject)
            for d in drafts
            if d.cause == NoticeCause.OVERDUE_AFTER_REMINDER
        ]
        self.reminders = (
            {
                key: (number, issued_on)
                for key, number, issued_on in session.execute(
                    select(Notice.cause_key, Notice.number, Notice.issued_on).where(
                        any_of(session, Notice.cause_key, reminders)
                    )
                )
            }
            if reminders
            else {}
        )
        interviewed = {i for d in drafts if d.cause == NoticeCause.SUPERVISOR_DECISION for i in d.case_ids}
        self.earlier: dict[int, list[tuple[str, str]]] = {}
        if interviewed:
            for case_id, kind, number in session.execute(
                select(notice_case.c.case_id, Notice.kind, Notice.number)
                .join(Notice, Notice.id == notice_case.c.notice_id)
                .where(any_of(session, notice_case.c.case_id, list(interviewed)))
                .order_by(Notice.id)
            ):
                self.earlier.setdefault(case_id, []).append((KIND_NAMES[NoticeKind(kind)], number))

    def named(self, draft) -> list[Case]:
        """The draft's cases the document may name: never one about the addressed department or
        one above it (visibility.reaching; asked only when a case is about a department)."""
        cases = [self.cases[i] for i in draft.case_ids if i in self.cases]
        if any(case.concerned_department_id is not None for case in cases):
            cases = visibility.reaching(self.session, cases, [draft.department_id])
        return cases


def _numbers(cases: Sequence[Case]) -> str:
    if not cases:
        return ""
    return f"{cases[0].number}号" if len(cases) == 1 else f"{cases[0].number}号等{len(cases)}件"


def _title(cause: NoticeCause, cases: Sequence[Case], department: str) -> str:
    numbers = _numbers(cases)
    subject = f"{numbers}工单" if numbers else "有关工单"
    titles = {
        NoticeCause.UNSIGNED: f"关于督促签收{subject}的提醒敦促函",
        NoticeCause.OVERDUE: f"关于督促办理{subject}的提醒敦促函",
        NoticeCause.REPORTED_AGAIN: f"关于督促办理{subject}重复反映问题的提醒敦促函",
        NoticeCause.REWARD_UNPAID: f"关于督促兑付{subject}举报奖励的提醒敦促函",
        NoticeCause.REPEATED_RETURNS: f"关于{subject}推诿扯皮问题的整改通知书",
        NoticeCause.TWO_UNSATISFIED: f"关于{subject}办理结果两次不满意问题的整改通知书",
        NoticeCause.OVERDUE_AFTER_REMINDER: f"关于{subject}经提醒敦促仍逾期未办结问题的整改通知书",
        NoticeCause.IMPROPER_CLOSE_REQUESTS: f"关于{subject}多次申请办结不规范问题的整改通知书",
        NoticeCause.GRADE_C_ASSIGNMENT: f"关于交办{numbers or '有关'}问题线索的函",
        NoticeCause.SUPERVISOR_DECISION: f"关于约谈{department}的通知",
        NoticeCause.WARNING_REMINDER: "关于预警提示问题的提醒敦促函",
        NoticeCause.WARNING_RECTIFICATION: "关于预警提示问题的整改通知书",
    }
    return titles[cause]


def _late_days(calendar, due_at: datetime | None, today: date) -> int:
    if due_at is None or calendar is None:
        return 0
    return calendar.working_days_between(local_date(due_at), today)


def _overdue_note(calendar, due_at: datetime | None, today: date) -> str:
    days = _late_days(calendar, due_at, today)
    return f"已逾期{days}个工作日" if days else "已超过办理时限"


def _facts(
    facts: Facts, draft, cases: Sequence[Case], *, today: date, calendar, settings, we: str
) -> tuple[str, dict[int, str]]:
    """What happened (one sentence, in Chinese, dates as documents write them) and the note of
    each named case."""
    cause, named = draft.cause, {case.id for case in cases}
    numbers = "、".join(f"{case.number}号" for case in cases) or "有关"
    assignment = facts.assignments.get(_subject_id(draft.subject)) if cause in _ASSIGNMENT_CAUSES else None
    notes: dict[int, str] = {}
    if cause == NoticeCause.UNSIGNED and assignment is not None:
        dispatched, sign_due = _local(assignment.dispatched_at), _local(assignment.sign_due_at)
        text = (
            f"{numbers}工单已于{cn_datetime(dispatched)}分办至你单位，应于{cn_datetime(sign_due)}前签收，"
            f"截至{cn_date(today)}仍未签收。"
        )
        notes[assignment.case_id] = f"应于{cn_datetime(sign_due)}前签收，未签收"
    elif cause == NoticeCause.OVERDUE and assignment is not None:
        note = _overdue_note(calendar, assignment.due_at, today)
        text = f"{numbers}工单办理时限为{_when(assignment.due_at)}，截至{cn_date(today)}仍未办结，{note}。"
        notes[assignment.case_id] = note
    elif cause == NoticeCause.OVERDUE_AFTER_REMINDER and assignment is not None:
        reminder = facts.reminders.get(cause_key(NoticeCause.OVERDUE, draft.subject))
        by = f"于{cn_date(reminder[1])}以《提醒敦促函》（{reminder[0]}）" if reminder else "以《提醒敦促函》"
        grace = (settings or {}).get("rectify_after_reminder_working_days")
        within = f"在{grace}个工作日内" if grace else ""
        note = _overdue_note(calendar, assignment.due_at, today)
        text = (
            f"{numbers}工单办理时限为{_when(assignment.due_at)}，{we}已{by}督促办理，"
            f"你单位{within}仍未办结，截至{cn_date(today)}{note}。"
        )
        notes[assignment.case_id] = note
    elif cause == NoticeCause.REWARD_UNPAID:
        reward = facts.rewards.get(_subject_id(draft.subject))
        due = _when(reward.payment_due_at) if reward is not None and reward.payment_due_at else None
        text = (
            f"{numbers}工单的举报奖励应于{due}前兑付，截至{cn_date(today)}仍未支付。"
            if due
            else f"{numbers}工单的举报奖励逾期未兑付。"
        )
        if reward is not None and reward.case_id in named and due:
            notes[reward.case_id] = f"应于{due}前兑付，未兑付"
    elif cause == NoticeCause.REPORTED_AGAIN:
        again = facts.cases.get(_subject_id(draft.subject))
        text = f"{numbers}工单尚未办结，经营主体又就同一事项再次反映" + (
            f"（{again.number}号）。" if again is not None and again.number else "。"
        )
        notes.update((case.id, "重复反映未办") for case in cases)
    elif cause == NoticeCause.GRADE_C_ASSIGNMENT:
        text = f"{numbers}工单反映的问题属你单位职责范围，由你单位负责核查整改。"
    elif cause == NoticeCause.SUPERVISOR_DECISION:
        text = ""
    else:  # the details the rule wrote hold the counts (returns, refusals) and no date
        text = draft.details.strip()
    return text, notes


def _interview(
    facts: Facts, draft, cases: Sequence[Case], meeting: Meeting, *, today: date, calendar
) -> tuple[dict, dict[int, str]]:
    """The interview block: the reasons the supervisor wrote, then the facts of each named case
    (what went wrong: days overdue, notices already issued on it)."""
    # each reason the supervisor typed is a paragraph of its own: it ends with a full stop
    reasons = [r if r[-1] in "。！？；：.!?;:" else f"{r}。" for r in lines(draft.details)]
    notes = {}
    for case in cases:
        parts = []
        if case.due_at is not None and case.closed_at is None and local_date(case.due_at) < today:
            parts.append(_overdue_note(calendar, case.due_at, today))
        earlier = facts.earlier.get(case.id, [])
        if earlier:
            parts.append(f"已发出督办文书{len(earlier)}件")
        notes[case.id] = "；".join(parts)
        said = "，".join(
            (
                [f"办理时限为{_when(case.due_at)}，{parts[0]}"]
                if case.due_at is not None and parts and parts[0].startswith("已逾期")
                else []
            )
            + (
                [
                    "已就该工单发出"
                    + "、".join(f"{name}（{number}）" for name, number in earlier)
                    + "，仍未整改到位"
                ]
                if earlier
                else []
            )
        )
        reasons.append(f"{case.number}号工单（{case.title}）" + (f"：{said}。" if said else "。"))
    block = {
        "reasons": reasons,
        "time": cn_datetime(_local(meeting.at)),
        "place": meeting.place,
        "attendees": meeting.attendees,
        "materials": list(meeting.materials),
    }
    return block, notes


def document_for(
    facts: Facts,
    draft,
    *,
    office: Jurisdiction,
    number: str,
    now: datetime,
    reply_due_at: datetime,
    calendar=None,
    settings=None,
    meeting: Meeting | None = None,
) -> dict:
    """The document of one notice as issued (the notice document contract, version 1)."""
    kind, cause = KIND_OF_CAUSE[draft.cause], NoticeCause(draft.cause)
    today = local_date(now)
    department = facts.departments[draft.department_id]
    cases = facts.named(draft)
    we = _we(office.authority)
    reply = cn_date(local_date(reply_due_at))
    interview = None
    if kind == NoticeKind.INTERVIEW:
        interview, notes = (
            _interview(facts, draft, cases, meeting, today=today, calendar=calendar)
            if meeting
            else (
                {"reasons": lines(draft.details), "time": "", "place": "", "attendees": "", "materials": []},
                {},
            )
        )
        body = [
            f"你单位在办理经营主体反映问题中存在下列情形。{BASIS[kind]}。经研究，{we}决定对你单位进行约谈。"
            "现将有关事项通知如下："
        ]
    else:
        happened, notes = _facts(
            facts, draft, cases, today=today, calendar=calendar, settings=settings, we=we
        )
        if kind == NoticeKind.ASSIGNMENT:
            body = [f"{BASIS[kind]}。现将下列问题线索交你单位办理。{happened}"]
        else:
            body = [
                f"经营商110平台监测，{happened}" if happened else "经营商110平台监测，你单位存在下列情形。",
                f"{BASIS[kind]}。",
            ]
    closing = [DEMANDS[cause].format(reply=reply, we=we, issuer=office.authority), CLOSINGS[kind]]
    return {
        "version": VERSION,
        "kind": str(kind),
        "issuer": office.authority,
        "number": number,
        "title": _title(cause, cases, department.name),
        "addressee": department.name,
        "body": body,
        "cases": [{"number": c.number or "", "title": c.title, "note": notes.get(c.id, "")} for c in cases],
        "closing": closing,
        "interview": interview,
        "signer": office.authority,
        "date": cn_date(today),
        "contact": (
            {"name": office.contact_name.strip(), "phone": office.contact_phone.strip()}
            if (office.contact_name or "").strip() or (office.contact_phone or "").strip()
            else None
        ),
        "copy_to": lines(office.notice_copy_to),
        "seal_sha256": office.seal_sha256 or None,
    }


def document_of_notice(session, notice: Notice, *, calendar=None, settings=None) -> dict:
    """The document of a notice issued before documents were frozen (``Notice.document`` NULL),
    built from the data as it stands at its first download, with its own number, date, reply
    deadline and meeting: the caller freezes it then (what it names from that day on never
    changes again, though names changed between issue and first download show as changed)."""
    from app.services.notices import Draft

    draft = Draft(
        NoticeCause(notice.cause),
        notice.cause_key.split(":", 2)[2] if notice.cause_key.count(":") >= 2 else "",
        notice.department_id,
        notice.details,
        tuple(case.id for case in notice.cases),
        notice.jurisdiction_id,
    )
    meeting = (
        Meeting(
            notice.meeting_at,
            notice.meeting_place or "",
            notice.attendees or "",
            tuple(lines(notice.materials)),
        )
        if notice.meeting_at is not None
        else None
    )
    facts = Facts(session, [draft])
    facts.earlier = {
        case_id: [(name, number) for name, number in found if number != notice.number]
        for case_id, found in facts.earlier.items()
    }
    office = notice.jurisdiction or session.get(Jurisdiction, notice.jurisdiction_id)
    return document_for(
        facts,
        draft,
        office=office,
        number=notice.number,
        now=notice.issued_at,
        reply_due_at=notice.reply_due_at,
        calendar=calendar,
        settings=settings,
        meeting=meeting,
    )
