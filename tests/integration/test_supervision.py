"""Timers, supervision notices and notifications: the sweep with a frozen clock, notices raised
once per cause, the outbox delivered to a local SMTP sink and a local HTTP SMS sink."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.services import cases as svc
from app.services import delivery, sweep
from app.services import notices as notice_services
from app.supervision import NoticeCause
from app.workflow import Action, Status
from models import InboxMessage, Notice, Notification, RevisitTask
from tests.conftest import at
from tests.factories import case_in, handler_of

NOW = at("2026-11-02 10:00")  # a Monday
# An interview's arrangements (the meeting lies after every test's clock).
MEETING = {"meeting_at": "2027-01-05 09:30", "place": "政务服务中心三楼会议室", "attendees": "主要负责人"}


def notices(session, cause=None):
    query = session.query(Notice)
    return query.filter_by(cause=cause).all() if cause else query.all()


def test_a_case_not_signed_within_two_hours_gets_one_reminder_letter(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    assert sweep.run_sweep(session, NOW + timedelta(hours=1))["unsigned"] == 0
    later = NOW + timedelta(hours=3)
    assert sweep.run_sweep(session, later)["unsigned"] == 1
    assert sweep.run_sweep(session, later + timedelta(minutes=1))["unsigned"] == 0
    [notice] = notices(session, NoticeCause.UNSIGNED)
    assert notice.kind == "reminder" and notice.department_id == depts["X102"].id
    assert notice.number == "清营商督〔2026〕1号" and notice.cases == [case]
    inbox = session.query(Notification).filter_by(template="notice_issued", channel="inbox").all()
    assert {n.user_id for n in inbox} == {handler_of(actors, "X102").id}


def test_an_overdue_case_gets_a_reminder_then_a_rectification_notice(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    due = case.due_at  # Nov 16, end of day
    assert sweep.run_sweep(session, due - timedelta(hours=3))["due_soon"] == 1
    assert sweep.run_sweep(session, due + timedelta(minutes=1))["overdue"] == 1
    assert len(notices(session, NoticeCause.OVERDUE)) == 1
    # Three working days after the reminder (Tue 17 → Fri 20) it is still overdue.
    assert sweep.run_sweep(session, due + timedelta(days=2))["still_overdue"] == 0
    assert sweep.run_sweep(session, due + timedelta(days=4))["still_overdue"] == 1
    assert sweep.run_sweep(session, due + timedelta(days=5))["still_overdue"] == 0
    [rectification] = notices(session, NoticeCause.OVERDUE_AFTER_REMINDER)
    assert rectification.kind == "rectification" and rectification.number.endswith("〕2号")
    templates = {n.template for n in session.query(Notification)}
    assert {"due_soon", "overdue_notice", "notice_issued"} <= templates
    # The overdue case is told once, naming the reminder notice it received.
    [told] = session.query(Notification).filter_by(template="overdue_notice", channel="inbox").all()
    assert told.params["notice"].endswith("〕1号") and told.params["number"] == case.number


def test_a_case_not_accepted_in_time_is_flagged_to_the_supervisors(session, actors, cats, depts):
    case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    assert sweep.run_sweep(session, NOW + timedelta(days=8))["not_accepted"] == 1
    assert sweep.run_sweep(session, NOW + timedelta(days=9))["not_accepted"] == 0
    users = {n.user_id for n in session.query(Notification).filter_by(template="not_accepted")}
    assert users == {actors["supervisor"].id, actors["supervisor2"].id}


def test_an_unrated_reply_becomes_a_revisit_call(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW)
    assert sweep.run_sweep(session, NOW + timedelta(days=2))["unrated"] == 0
    assert sweep.run_sweep(session, NOW + timedelta(days=6))["unrated"] == 1
    assert sweep.run_sweep(session, NOW + timedelta(days=7))["unrated"] == 0
    assert session.query(RevisitTask).filter_by(case_id=case.id, reason="unrated").count() == 1


def test_a_reply_after_re_handling_left_unrated_gets_a_revisit_call_of_its_own(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW)
    handler, later = handler_of(actors, "X102"), NOW + timedelta(days=6)
    assert sweep.run_sweep(session, later)["unrated"] == 1  # the first reply was not rated
    for action, actor, params in (
        (
            Action.EVALUATE,
            actors["supervisor"],
            {"rating": "unsatisfied", "reason": "没解决", "source": "revisit_call", "method": "phone"},
        ),
        (Action.REHANDLE, actors["supervisor"], {"note": "请重新办理"}),
        (Action.SIGN, handler, {}),
        (Action.REPLY, handler, {"reply": "已重新办理"}),
    ):
        later += timedelta(minutes=10)
        svc.perform(session, case.id, action, actor=actor, now=later, **params)
    assert sweep.run_sweep(session, later + timedelta(days=1))["unrated"] == 0  # not yet due
    assert sweep.run_sweep(session, later + timedelta(days=8))["unrated"] == 1
    assert sweep.run_sweep(session, later + timedelta(days=9))["unrated"] == 0  # once
    tasks = session.query(RevisitTask).filter_by(case_id=case.id).order_by(RevisitTask.id).all()
    assert [(t.reason, t.done_at is not None) for t in tasks] == [("unrated", True), ("unrated:2", False)]


def test_repeated_returns_raise_a_rectification_notice_once(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.RETURNED, now=NOW)
    svc.perform(
        session,
        case.id,
        Action.DISPATCH,
        actor=actors["dispatcher"],
        now=NOW + timedelta(hours=2),
        lead_department_id=depts["X102"].id,
    )
    svc.perform(
        session,
        case.id,
        Action.RETURN,
        actor=handler_of(actors, "X102"),
        now=NOW + timedelta(hours=3),
        reason="仍不属于本单位",
    )
    [notice] = notices(session, NoticeCause.REPEATED_RETURNS)
    assert notice.department_id == depts["X102"].id
    svc.perform(
        session,
        case.id,
        Action.DISPATCH,
        actor=actors["dispatcher"],
        now=NOW + timedelta(hours=4),
        lead_department_id=depts["X102"].id,
    )
    svc.perform(
        session,
        case.id,
        Action.RETURN,
        actor=handler_of(actors, "X102"),
        now=NOW + timedelta(hours=5),
        reason="第三次退回",
    )
    assert len(notices(session, NoticeCause.REPEATED_RETURNS)) == 1


def test_two_unsatisfied_results_raise_a_rectification_notice(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.UNSATISFIED, now=NOW)
    supervisor, handler = actors["supervisor"], handler_of(actors, "X102")
    later = NOW + timedelta(days=1)
    svc.perform(session, case.id, Action.REHANDLE, actor=supervisor, now=later, note="重办")
    svc.perform(session, case.id, Action.SIGN, actor=handler, now=later)
    svc.perform(session, case.id, Action.REPLY, actor=handler, now=later, reply="再次答复")
    assert notices(session, NoticeCause.TWO_UNSATISFIED) == []
    svc.perform(
        session,
        case.id,
        Action.EVALUATE,
        actor=supervisor,
        now=later,
        rating="unsatisfied",
        source="revisit_call",
        method="phone",
        reason="仍不满意",
    )
    assert len(notices(session, NoticeCause.TWO_UNSATISFIED)) == 1


def test_notice_numbers_count_up_within_a_year_and_restart_the_next(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    numbers = [
        notice_services.raise_notice(
            session,
            cause=NoticeCause.OVERDUE,
            subject=f"test:{i}",
            department_id=depts["X102"].id,
            cases=[case],
            details="测试",
            now=moment,
        ).number
        for i, moment in enumerate([NOW, NOW, at("2027-01-04 10:00")])
    ]
    assert numbers == ["清营商督〔2026〕1号", "清营商督〔2026〕2号", "清营商督〔2027〕1号"]
    assert (
        notice_services.raise_notice(
            session,
            cause=NoticeCause.OVERDUE,
            subject="test:0",
            department_id=depts["X102"].id,
            cases=[case],
            details="again",
            now=NOW,
        )
        is None
    )


def test_a_cause_raised_meanwhile_elsewhere_leaves_no_gap_in_the_year_numbers(
    session, actors, cats, depts, monkeypatch
):
    from sqlalchemy import false

    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    dept = depts["X102"].id

    def draft(subject):
        return notice_services.Draft(NoticeCause.OVERDUE, subject, dept, "测试", (case.id,))

    notice_services.raise_notices(session, [draft("race:b")], now=NOW)  # 清营商督〔2026〕1号
    # Another sweep committed "race:b" after this one looked: its insert skips that row.
    monkeypatch.setattr(notice_services, "any_of", lambda *args: false())
    new = notice_services.raise_notices(session, [draft("race:a"), draft("race:b"), draft("race:c")], now=NOW)
    assert len(new) == 2
    numbers = sorted(n.number for n in notices(session))
    assert numbers == ["清营商督〔2026〕1号", "清营商督〔2026〕2号", "清营商督〔2026〕3号"]
    monkeypatch.undo()
    [fourth] = [
        session.get(Notice, n.id) for n in notice_services.raise_notices(session, [draft("race:d")], now=NOW)
    ]
    assert fourth.number == "清营商督〔2026〕4号"  # the counter was given the unused number back


def test_a_sweep_over_more_than_one_batch_acts_on_every_item_once(session, actors, cats, depts, monkeypatch):
    monkeypatch.setattr(sweep, "BATCH", 2)
    cases = [case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW) for _ in range(5)]
    done = sweep.run_sweep(session, NOW + timedelta(hours=3))
    assert done["unsigned"] == 5
    assert sorted(c.id for n in notices(session, NoticeCause.UNSIGNED) for c in n.cases) == sorted(
        c.id for c in cases
    )
    assert sweep.run_sweep(session, NOW + timedelta(hours=4))["unsigned"] == 0
    numbers = sorted(n.sequence for n in notices(session))
    assert numbers == list(range(1, len(numbers) + 1))


def test_the_department_answers_and_the_supervisor_closes_a_notice(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    [notice] = notices(session)
    handler, outsider = handler_of(actors, "X102"), handler_of(actors, "X103")
    from app.errors import DomainError

    with pytest.raises(DomainError):
        notice_services.acknowledge_notice(session, notice.id, actor=outsider, now=NOW)
    with pytest.raises(DomainError):
        notice_services.close_notice(session, notice.id, actor=actors["supervisor"], now=NOW)
    notice_services.acknowledge_notice(session, notice.id, actor=handler, now=NOW)
    notice_services.answer_notice(session, notice.id, actor=handler, now=NOW, answer="已签收并安排专人办理")
    notice_services.close_notice(session, notice.id, actor=actors["supervisor"], now=NOW)
    assert notice.state == "closed" and case in notice.cases


def test_the_notice_is_a_chinese_pdf(app, session, actors, cats, depts):
    import subprocess

    from reports.notice import render_notice_pdf

    case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    [notice] = notices(session)
    pdf = render_notice_pdf(notice.document)
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
    if not fonts:  # older pdffonts cannot read stdin
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            handle.write(pdf)
            handle.flush()
            fonts = subprocess.run(["pdffonts", handle.name], capture_output=True).stdout.decode()
    assert any(face in fonts for face in ("WenQuanYi", "AR PL", "Sungti", "NotoSerifCJK", "Fandol"))
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode()
    assert "提醒敦促函" in text and notice.number in text


def test_interview_candidates_are_listed_and_an_interview_notice_issued(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.UNSATISFIED, now=NOW)
    notice_services.raise_notice(
        session,
        cause=NoticeCause.TWO_UNSATISFIED,
        subject=f"case:{case.id}",
        department_id=depts["X102"].id,
        cases=[case],
        details="两次不满意",
        now=NOW,
    )
    [(department, cases)] = notice_services.interview_candidates(session, actors["supervisor"])
    assert department == depts["X102"] and cases == [case]
    notice = notice_services.issue_interview(
        session,
        actor=actors["supervisor"],
        now=NOW,
        department_id=depts["X102"].id,
        case_ids=[case.id],
        details="约谈主要负责人",
        **MEETING,
    )
    assert notice.kind == "interview"


def test_at_least_a_tenth_of_last_weeks_closed_cases_are_sampled_once(session, actors, cats, depts):
    week_start = at("2026-11-09 00:00")
    for day in range(12):
        case_in(session, actors, cats, depts, Status.CLOSED, now=NOW + timedelta(hours=day))
    assert sweep.sample_closed_cases(session, week_start=week_start, now=week_start) == 2
    assert sweep.sample_closed_cases(session, week_start=week_start, now=week_start) == 0
    assert session.query(RevisitTask).filter_by(reason="sample").count() == 2


def test_reporters_are_told_at_the_key_steps_without_identity_in_the_payload(session, actors, cats, depts):
    case = case_in(
        session,
        actors,
        cats,
        depts,
        Status.CLOSED,
        now=NOW,
        reporter_name="金丝雀丁",
        reporter_phone="13987654321",
    )
    sms = session.query(Notification).filter_by(channel="sms", case_id=case.id).all()
    # ...including the initial verification result of a complaint (seed 000)
    assert {n.template for n in sms} == {
        "case_accepted",
        "case_dispatched",
        "case_verified",
        "case_replied",
        "case_closed",
    }
    for notification in sms:
        assert "金丝雀丁" not in json.dumps(notification.params, ensure_ascii=False)
        assert "13987654321" not in json.dumps(notification.params)
        assert notification.address == "13987654321"  # decrypted only for the delivery


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    class Sink:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(envelope)
            return "250 OK"

    handler = Sink()
    handler.messages = []
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, handler.messages
    controller.stop()


@pytest.fixture
def sms_sink():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Idempotency-Key"], json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms", received
    server.shutdown()


def test_the_outbox_is_delivered_once_by_email_sms_and_inbox(
    app, session, actors, cats, depts, smtp_sink, sms_sink
):
    controller, mails = smtp_sink
    sms_url, texts = sms_sink
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, SMS_GATEWAY_URL=sms_url)
    try:
        case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW, reporter_phone="13800138000")
        ids = sweep.pending_notifications(session, NOW + timedelta(hours=1))
        assert ids
        for notification_id in ids + ids:  # delivered twice by the queue: seen once
            delivery.deliver(session, notification_id, NOW + timedelta(hours=1))
        statuses = {n.status for n in session.query(Notification)}
        assert statuses == {"sent"}
        handler = handler_of(actors, "X102")
        assert session.query(InboxMessage).filter_by(user_id=handler.id).count() == 1
        assert len(texts) == len({key for key, _ in texts}) == 2  # accepted, dispatched
        assert all(body["to"] == "13800138000" and "【营商110】" in body["text"] for _, body in texts)
        assert len(mails) == session.query(Notification).filter_by(channel="email").count() == 1
        from email import message_from_bytes
        from email.policy import default

        mail = message_from_bytes(mails[0].content, policy=default)
        assert "YS" in mail["Subject"] and "@yingshang110.local>" in mail["Message-ID"]
        assert "签收" in mail.get_content()
    finally:
        app.config.update(MAIL_SERVER="", SMS_GATEWAY_URL="")


def test_a_failed_delivery_is_retried_later_and_the_error_hides_the_address(
    app, session, actors, cats, depts
):
    app.config.update(SMS_GATEWAY_URL="http://127.0.0.1:9/unreachable")
    try:
        case = case_in(session, actors, cats, depts, Status.ACCEPTED, now=NOW, reporter_phone="13800138000")
        [sms] = session.query(Notification).filter_by(channel="sms", case_id=case.id).all()
        assert delivery.deliver(session, sms.id, NOW) == "pending"
        assert sms.attempts == 1 and sms.next_attempt_at > NOW
        assert "13800138000" not in (sms.last_error or "")
        assert sms.id not in sweep.pending_notifications(session, NOW)
    finally:
        app.config.update(SMS_GATEWAY_URL="")


def test_without_gateways_the_demo_holds_messages_in_the_outbox_viewer(app, session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.ACCEPTED, now=NOW, reporter_phone="13800138000")
    [sms] = session.query(Notification).filter_by(channel="sms", case_id=case.id).all()
    assert delivery.deliver(session, sms.id, NOW) == "held"
    session.commit()
    from tests.conftest import login

    client = app.test_client()
    login(client, "admin")
    page = client.get("/outbox/list/").get_data(as_text=True)
    assert case.number in page


@pytest.fixture
def fake_queue(app, monkeypatch):
    """A fakeredis queue behind app.queue, with enqueuing after commit switched on."""
    import fakeredis
    from rq import Queue

    from app import queue as app_queue

    connection = fakeredis.FakeStrictRedis()
    queue = Queue("default", connection=connection)
    monkeypatch.setattr(app_queue, "default_queue", lambda: queue)
    monkeypatch.setitem(app.config, "ENQUEUE_AFTER_COMMIT", True)
    return queue, connection


def test_jobs_run_through_a_queue(app, session, actors, cats, depts, fake_queue):
    from rq import SimpleWorker

    from app.services.cases import request_recompute
    from jobs import tasks

    queue, connection = fake_queue
    case_in(
        session,
        actors,
        cats,
        depts,
        Status.DISPATCHED,
        now=NOW,
        reporter_name="金丝雀戊",
        reporter_phone="13911112222",
    )
    assert queue.count == 0  # nothing is handed to the workers before the commit
    session.commit()
    assert queue.count > 0  # the new messages, once committed
    queue.empty()
    queue.enqueue(tasks.sweep)
    SimpleWorker([queue], connection=connection).work(burst=False, max_jobs=1)
    payloads = [job.args for job in queue.jobs]
    # ids only (one message, or the notices of a batch to render), never what they are about
    ids = [x for a in payloads for x in (a[0] if len(a) == 1 and isinstance(a[0], list) else a)]
    assert payloads and all(len(a) == 1 for a in payloads) and all(isinstance(i, int) for i in ids)
    everything = b"".join(connection.dump(k) or b"" for k in connection.keys())
    assert "金丝雀戊".encode() not in everything and b"13911112222" not in everything
    SimpleWorker([queue], connection=connection).work(burst=True)
    session.expire_all()
    inbox = session.query(Notification).filter_by(channel="inbox")
    assert inbox.count() and all(n.status == "sent" for n in inbox)
    assert request_recompute(session) == "queued"  # a calendar edit queues the recompute job
    assert queue.count == 0
    session.commit()
    assert [job.func_name for job in queue.jobs] == ["jobs.tasks.recompute_deadlines"]
    SimpleWorker([queue], connection=connection).work(burst=True)
    assert queue.count == 0


def test_a_rolled_back_change_queues_nothing(session, actors, cats, depts, fake_queue):
    queue, _ = fake_queue
    case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    session.rollback()
    session.commit()
    assert queue.count == 0


@pytest.mark.real_commits
def test_two_sweeps_at_once_cause_no_double_effect(app, session, actors, cats, depts):
    from app.extensions import db

    for _ in range(6):
        case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    session.commit()
    later = NOW + timedelta(hours=3)
    barrier = threading.Barrier(2)
    errors = []

    def one_sweep():
        try:
            with app.app_context():
                barrier.wait()
                sweep.run_sweep(db.session, later)
                db.session.commit()
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=one_sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.expire_all()
    if errors:  # SQLite lets one writer through at a time; the loser simply runs again later
        assert all("locked" in str(e) for e in errors)
        sweep.run_sweep(session, later)
        session.commit()
    unsigned = notices(session, NoticeCause.UNSIGNED)
    assert len(unsigned) == 6 == len({n.cause_key for n in unsigned})
    assert len({n.number for n in notices(session)}) == len(notices(session))


def test_recording_the_evaluation_completes_the_revisit_call(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW)
    sweep.run_sweep(session, NOW + timedelta(days=6))
    svc.perform(
        session,
        case.id,
        Action.EVALUATE,
        actor=actors["supervisor"],
        now=NOW + timedelta(days=6, hours=1),
        rating="satisfied",
        source="revisit_call",
        method="phone",
    )
    [task] = session.query(RevisitTask).filter_by(case_id=case.id).all()
    assert task.done_at is not None and task.outcome == "satisfied:phone"


def test_handlers_get_each_overdue_case_in_the_inbox_and_one_email_digest(session, actors, cats, depts):
    cases = [case_in(session, actors, cats, depts, Status.HANDLING, now=NOW) for _ in range(3)]
    due = max(c.due_at for c in cases)
    assert sweep.run_sweep(session, due + timedelta(minutes=1))["overdue"] == 3
    handler = handler_of(actors, "X102")
    inbox = (
        session.query(Notification)
        .filter_by(template="overdue_notice", channel="inbox", user_id=handler.id)
        .all()
    )
    assert sorted(n.case_id for n in inbox) == sorted(c.id for c in cases)
    [mail] = (
        session.query(Notification)
        .filter_by(channel="email", user_id=handler.id, template="overdue_digest")
        .all()
    )
    assert mail.params["count"] == 3
    assert all(c.number in mail.params["numbers"] for c in cases)
    assert not session.query(Notification).filter_by(channel="email", template="overdue_notice").count()
    assert sweep.run_sweep(session, due + timedelta(minutes=2))["overdue"] == 0
    assert session.query(Notification).filter_by(template="overdue_digest").count() == 1


# --- who is told about extensions, returns, re-handling and escalation --------------------


def _told(session, case, template, channel="inbox") -> set[int]:
    """The staff a message of ``template`` about ``case`` went to."""
    return {
        n.user_id
        for n in session.query(Notification).filter_by(case_id=case.id, template=template, channel=channel)
    }


def _texts(session, case, template) -> list[Notification]:
    """The text messages of ``template`` to the case's reporter."""
    return session.query(Notification).filter_by(case_id=case.id, template=template, channel="sms").all()


def _reads(notification) -> str:
    from app.services.notifications import render

    return " ".join(render(notification))


def test_an_extension_request_goes_to_the_supervisors_and_the_decision_to_the_department(
    session, actors, cats, depts
):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)  # due Mon Nov 16
    handler, supervisor = handler_of(actors, "X102"), actors["supervisor"]
    supervisors = {supervisor.id, actors["supervisor2"].id}

    def act(action, actor, **params):
        svc.perform(session, case.id, action, actor=actor, now=NOW + timedelta(days=1), **params)

    act(Action.REQUEST_EXTENSION, handler, days=3, reason="需现场核查")
    assert _told(session, case, "extension_requested") == supervisors
    [asked, *_] = session.query(Notification).filter_by(template="extension_requested").all()
    assert case.number in _reads(asked) and "2026-11-19 23:59" in _reads(asked)
    act(Action.REFUSE_EXTENSION, supervisor, note="理由不充分")
    assert _told(session, case, "extension_refused") == {handler.id}
    assert not _texts(session, case, "case_extended")  # nothing changed for the reporter

    act(Action.REQUEST_EXTENSION, handler, days=5, reason="涉及多个科室会商")
    act(Action.APPROVE_EXTENSION, supervisor)
    assert _told(session, case, "extension_approved") == {handler.id}
    [approved] = session.query(Notification).filter_by(template="extension_approved", channel="inbox").all()
    assert "2026-11-23 23:59" in _reads(approved)  # Nov 16 + 5 working days
    [texted] = _texts(session, case, "case_extended")  # the reporter is told (004)
    assert "2026-11-23 23:59" in _reads(texted)


def test_a_returned_case_is_told_to_the_supervisors_and_the_dispatchers(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.RETURNED, now=NOW)
    assert _told(session, case, "case_returned") == {
        actors["supervisor"].id,
        actors["supervisor2"].id,
        actors["dispatcher"].id,
    }
    [returned, *_] = session.query(Notification).filter_by(template="case_returned").all()
    assert depts["X102"].name in _reads(returned)


def test_re_handling_and_escalation_are_told_as_such_to_the_department_and_the_reporter(
    session, actors, cats, depts
):
    case = case_in(session, actors, cats, depts, Status.UNSATISFIED, now=NOW)
    handler, higher, supervisor = (
        handler_of(actors, "X102"),
        handler_of(actors, "C10"),
        actors["supervisor"],
    )
    step = iter(NOW + timedelta(days=1, hours=i) for i in range(10))

    def act(action, actor, **params):
        svc.perform(session, case.id, action, actor=actor, now=next(step), **params)

    act(Action.REHANDLE, supervisor, note="诉求合理，重新办理")
    assert _told(session, case, "rehandle") == {handler.id}
    [rehandle] = session.query(Notification).filter_by(template="rehandle", channel="inbox").all()
    assert "重办" in _reads(rehandle)
    assert (
        len(
            session.query(Notification).filter_by(case_id=case.id, template="new_case", channel="inbox").all()
        )
        == 1
    )  # the first dispatch
    [texted] = _texts(session, case, "case_rehandled")
    assert depts["X102"].name in _reads(texted)

    act(Action.SIGN, handler)
    act(Action.REPLY, handler, reply="已再次核查")
    act(
        Action.EVALUATE,
        supervisor,
        rating="unsatisfied",
        source="revisit_call",
        method="phone",
        reason="仍未解决",
    )
    act(Action.ESCALATE, supervisor, note="疑难复杂，提级办理")
    assert _told(session, case, "escalated_to") == {higher.id}  # the parent department
    assert _told(session, case, "escalated") == {
        supervisor.id,
        actors["supervisor2"].id,
        handler.id,
    }  # and the county it leaves
    [texted] = _texts(session, case, "case_escalated")
    assert depts["C10"].name in _reads(texted)
    assert (
        len(
            session.query(Notification).filter_by(case_id=case.id, template="new_case", channel="inbox").all()
        )
        == 1
    )


def test_inbox_messages_link_to_their_case_and_stay_unread_until_opened(app, session, actors, cats, depts):
    from tests.conftest import login

    first, second = (case_in(session, actors, cats, depts, Status.HANDLING, now=NOW) for _ in range(2))
    for case in (first, second):
        svc.perform(
            session,
            case.id,
            Action.REQUEST_EXTENSION,
            actor=handler_of(actors, "X102"),
            now=NOW + timedelta(hours=2),
            days=3,
            reason="需现场核查",
        )
    for notification in session.query(Notification).filter_by(channel="inbox"):
        delivery.deliver(session, notification.id, NOW + timedelta(hours=3))
    supervisor = actors["supervisor"]
    mine = {m.case_id: m for m in session.query(InboxMessage).filter_by(user_id=supervisor.id)}
    assert set(mine) == {first.id, second.id} and not any(m.read for m in mine.values())

    client = login(app.test_client(), "supervisor")

    def inbox() -> str:
        return client.get("/inbox/list/").get_data(as_text=True)

    page = inbox()
    assert page.count("未读") == 2
    assert f'href="/cases/show/{first.id}"' in page and f'href="/cases/show/{second.id}"' in page
    opened = client.get(f"/inbox/show/{mine[first.id].id}").get_data(as_text=True)
    assert f'href="/cases/show/{first.id}"' in opened
    assert inbox().count("未读") == 1
    client.get(f"/cases/show/{second.id}")  # opening the case reads its messages
    assert inbox().count("未读") == 0
    session.expire_all()
    assert all(m.read for m in session.query(InboxMessage).filter_by(user_id=supervisor.id))
    assert not any(
        m.read for m in session.query(InboxMessage).filter_by(user_id=actors["supervisor2"].id)
    )  # each user's own messages


def test_a_message_still_waiting_in_the_queue_is_not_queued_again(app, fake_queue):
    """Busy workers: each minute's sweep finds the same pending messages; each is queued once."""
    from rq import SimpleWorker

    from app.services.notifications import hand_to_workers

    queue, connection = fake_queue
    with app.app_context():
        assert hand_to_workers([1, 2, 3]) == 3
        assert hand_to_workers([1, 2, 3, 4]) == 1  # 1–3 still wait: only 4 is new
        assert sorted(queue.job_ids) == ["deliver-1", "deliver-2", "deliver-3", "deliver-4"]
        SimpleWorker([queue], connection=connection).work(burst=True)  # done (or failed): gone
        assert queue.count == 0
        assert hand_to_workers([1]) == 1  # still pending in the database: queued again
