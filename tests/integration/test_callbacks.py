"""Callbacks to connected systems: a case filed through the API by the 12345 platform is
reported back to the platform's callback URL (a local receiver here) as signed JSON, through
the outbox and the delivery job: each event once, in order, without anyone's identity."""

from __future__ import annotations

import json
import re
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Text, select, type_coerce

from app import clock
from app.errors import Invalid
from app.services import callbacks, delivery, sweep
from app.services import cases as svc
from app.workflow import Action
from models import CallbackSubscription, Case, Notification, Staff
from tests.conftest import at, login
from tests.factories import case_in, handler_of

NOW = at("2026-11-02 10:00")  # a Monday
IDENTITY = {
    "reporter_name": "回调金丝雀",
    "reporter_phone": "13977775555",
    "reporter_company": "金丝雀回调科技有限公司",
}


def documented_verifier():
    """The receiver's check exactly as the README documents it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- callback-verify -->\s*```python\n(.*?)```", readme, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - our own README's snippet
    return scope["verify_ys110_signature"]


class Receiver:
    """A connected system's callback endpoint on 127.0.0.1: records every request and answers
    with the scripted statuses (then 200); drops an event id it has acknowledged already."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[int] = []
        self.acknowledged: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.script.pop(0) if receiver.script else 200
                receiver.requests.append({"headers": dict(self.headers), "body": body, "status": status})
                event_id = self.headers["X-YS110-Event-Id"]
                if 200 <= status < 300 and event_id not in receiver.acknowledged:
                    receiver.acknowledged.append(event_id)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ys110/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def payloads(self, status_ok=True):
        return [json.loads(r["body"]) for r in self.requests if not status_ok or 200 <= r["status"] < 300]


@pytest.fixture
def receiver(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_ALLOW_HTTP_HOSTS", ["127.0.0.1"])
    local = Receiver()
    local.thread.start()
    yield local
    local.server.shutdown()
    local.server.server_close()


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


def work(fake_queue) -> None:
    """Run the queued jobs as a worker does."""
    from rq import SimpleWorker

    queue, connection = fake_queue
    SimpleWorker([queue], connection=connection).work(burst=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def platform(session):
    return session.query(Staff).filter_by(username="hotline12345").one()


@pytest.fixture
def subscription(session, receiver, platform):
    subscription, secret = callbacks.register_subscription(session, user=platform, url=receiver.url, now=NOW)
    session.commit()
    return subscription, secret


def file_through_api(app, client, cats, **extra) -> Case:
    sm = app.appbuilder.sm
    key = sm.create_api_key(sm.find_user(username="hotline12345"), "callbacks")["key"]
    response = client.post(
        "/api/v1/case/",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "case_type": "complaint",
            "channel": "phone_12345",
            "title": "12345转办：审批超时",
            "content": "来电反映审批超时。",
            "category_id": cats["GOV01"].id,
            **IDENTITY,
            **extra,
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["number"]


def drive_to_closed(session, actors, depts, case: Case) -> None:
    """Accept, dispatch, sign, verify, reply, evaluate and close, through the services; each
    step its own committed unit of work, as each is its own request."""
    handler = handler_of(actors, "X102")
    steps = [
        (Action.ACCEPT, actors["clerk"], {}),
        (Action.DISPATCH, actors["dispatcher"], {"lead_department_id": depts["X102"].id}),
        (Action.SIGN, handler, {}),
        (
            Action.RECORD_FINDING,
            handler,
            {"result": "untrue", "facts": "经核查。", "summary": "核查结果已出。"},
        ),
        (Action.REPLY, handler, {"reply": "已办结：审批已完成。", "note": "内部备注：王科长经办"}),
        (
            Action.EVALUATE,
            actors["supervisor"],
            {"rating": "satisfied", "source": "revisit_call", "method": "phone"},
        ),
        (Action.CLOSE, actors["supervisor"], {}),
    ]
    for minutes, (action, actor, params) in enumerate(steps, start=1):
        svc.perform(
            session, case.id, action, actor=actor, now=NOW + timedelta(minutes=10 * minutes), **params
        )
        session.commit()


def callback_rows(session):
    return session.query(Notification).filter_by(channel="callback").order_by(Notification.id).all()


def test_the_connected_system_is_told_each_event_once_in_order_and_signed(
    app, session, client, cats, depts, actors, receiver, subscription, fake_queue
):
    _, secret = subscription
    number = file_through_api(app, client, cats)
    case = session.query(Case).filter_by(number=number).one()
    drive_to_closed(session, actors, depts, case)
    work(fake_queue)

    payloads = receiver.payloads()
    assert [p["event"] for p in payloads] == [
        "file",
        "accept",
        "dispatch",
        "sign",
        "reply",
        "evaluate",
        "close",
    ]
    assert [p["status"] for p in payloads] == [
        "submitted",
        "accepted",
        "dispatched",
        "handling",
        "replied",
        "evaluated",
        "closed",
    ]
    assert [p["from_status"] for p in payloads][:2] == [None, "submitted"]
    sequences = [p["sequence"] for p in payloads]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert len(receiver.requests) == 7 and len(set(receiver.acknowledged)) == 7  # each once
    assert all(p["case_number"] == number for p in payloads)
    assert [p["event_id"] for p in payloads] == [r["headers"]["X-YS110-Event-Id"] for r in receiver.requests]
    reply = next(p for p in payloads if p["event"] == "reply")
    assert reply["reply"] == "已办结：审批已完成。"
    assert next(p for p in payloads if p["event"] == "evaluate")["rating"] == "satisfied"
    assert re.fullmatch(r"2026-11-02T10:\d\d:00\+08:00", payloads[1]["at"])
    assert payloads[2]["expected_datetime"].endswith("+08:00")
    assert {"reply", "rating"}.isdisjoint(payloads[0])

    verify = documented_verifier()
    for request in receiver.requests:
        assert verify(secret, request["headers"], request["body"])
        assert not verify("a-wrong-secret", request["headers"], request["body"])
        assert not verify(secret, request["headers"], request["body"] + b" ")  # body changed
        assert request["headers"]["X-YS110-Signature"].startswith("sha256=")

    # Nothing of anyone's identity, no internal note or staff name, no internal id.
    everything = b"".join(r["body"] for r in receiver.requests).decode()
    for value in IDENTITY.values():
        assert value not in everything
    assert "内部备注" not in everything and "王科长" not in everything
    staff_names = {a.name for a in actors.values() if a.name}
    assert not [name for name in staff_names if f'"{name}"' in everything]
    assert all(set(p) <= callbacks_keys() for p in payloads)

    # The queue delivers again, the sweep hands everything to the workers again: nothing more.
    rows = callback_rows(session)
    assert [n.status for n in rows] == ["sent"] * 7
    from jobs import tasks

    for row in rows:
        assert tasks.deliver(row.id) == "sent"
    tasks.enqueue_deliveries([n.id for n in rows])
    work(fake_queue)
    assert len(receiver.requests) == 7


def callbacks_keys() -> set[str]:
    return {
        "event_id",
        "sequence",
        "event",
        "case_number",
        "status",
        "from_status",
        "at",
        "reply",
        "rating",
        "expected_datetime",
    }


def test_a_failing_receiver_gets_the_event_again_and_the_next_one_only_after_it(
    app, session, client, cats, depts, actors, receiver, subscription, fake_queue
):
    from jobs import tasks

    receiver.script = [500, 500]  # the receiver fails twice, then accepts
    number = file_through_api(app, client, cats)
    work(fake_queue)  # the filing's callback fails
    case = session.query(Case).filter_by(number=number).one()
    svc.perform(session, case.id, Action.ACCEPT, actor=actors["clerk"], now=NOW + timedelta(minutes=5))
    session.commit()
    work(fake_queue)  # the acceptance waits for the filing
    filed, accepted = callback_rows(session)
    assert (filed.status, filed.attempts) == ("pending", 1)
    assert "500" in filed.last_error and receiver.url not in filed.last_error
    assert (accepted.status, accepted.attempts) == ("pending", 0)
    assert tasks.deliver(accepted.id) == "waiting"  # asked directly: still not before the filing
    assert [json.loads(r["body"])["event"] for r in receiver.requests] == ["file"]

    # The sweep's passes, once the backoff has passed, retry the filing (failing once more,
    # then answered); the acceptance goes only after it.
    for minutes in (10, 30):
        later = clock.utcnow() + timedelta(minutes=minutes)
        session.expire_all()
        due = sweep.pending_notifications(session, later)
        assert filed.id in due
        tasks.enqueue_deliveries(due)
        work(fake_queue)
    session.expire_all()
    assert [(n.status, n.attempts) for n in callback_rows(session)] == [("sent", 3), ("sent", 1)]
    assert [json.loads(r["body"])["event"] for r in receiver.requests] == ["file"] * 3 + ["accept"]
    ids = [r["headers"]["X-YS110-Event-Id"] for r in receiver.requests]
    assert ids[:3] == [ids[0]] * 3 and ids[0].startswith(f"{number}-1-")  # the same id each retry
    assert receiver.acknowledged == [ids[0], ids[3]]  # each acknowledged once
    assert ids[3].startswith(f"{number}-2-")


def test_a_message_given_up_no_longer_holds_the_next_ones_back(
    app, session, client, cats, actors, receiver, subscription
):
    receiver.script = [500] * delivery.MAX_ATTEMPTS
    number = file_through_api(app, client, cats)
    case = session.query(Case).filter_by(number=number).one()
    svc.perform(session, case.id, Action.ACCEPT, actor=actors["clerk"], now=NOW + timedelta(minutes=5))
    session.commit()
    filed, accepted = callback_rows(session)
    now = clock.utcnow()
    for _ in range(delivery.MAX_ATTEMPTS):
        assert delivery.deliver(session, accepted.id, now) == "waiting"
        delivery.deliver(session, filed.id, now)
    assert filed.status == "failed"
    assert delivery.deliver(session, accepted.id, now) == "sent"


def test_two_events_recorded_at_once_with_one_sequence_keep_distinct_ids(
    app, client, session, actors, cats, receiver, subscription
):
    """A reporter's rating beside a staff action can give two events one sequence number: the
    receiver, dropping ids it has seen, must still get both."""
    number = file_through_api(app, client, cats)
    case = session.query(Case).filter_by(number=number).one()
    svc.perform(session, case.id, Action.ACCEPT, actor=actors["clerk"], now=NOW + timedelta(minutes=5))
    session.commit()
    filed, accepted = callback_rows(session)
    accepted.params = {**accepted.params, "sequence": filed.params["sequence"]}  # the race's result
    session.commit()
    ids = [callbacks.payload(session, row)["event_id"] for row in (filed, accepted)]
    assert len(set(ids)) == 2 and all(i.startswith(number) for i in ids)
    assert callbacks.payload(session, filed)["event_id"] == ids[0]  # stable across retries


def test_cases_not_filed_by_the_system_send_nothing(session, actors, cats, depts, receiver, subscription):
    case_in(session, actors, cats, depts, "closed", now=NOW)  # filed by the clerk
    session.commit()
    assert callback_rows(session) == []
    assert receiver.requests == []


def test_a_disabled_subscription_is_not_written_to_nor_sent(
    app, session, client, cats, actors, receiver, subscription
):
    number = file_through_api(app, client, cats)
    [filed] = callback_rows(session)
    row, _ = subscription
    session.get(CallbackSubscription, row.id).active = False
    session.commit()
    case = session.query(Case).filter_by(number=number).one()
    svc.perform(session, case.id, Action.ACCEPT, actor=actors["clerk"], now=NOW + timedelta(minutes=5))
    session.commit()
    assert callback_rows(session) == [filed]  # no new row for the acceptance
    assert delivery.deliver(session, filed.id, clock.utcnow()) == "failed"
    assert "disabled" in filed.last_error and receiver.requests == []


def test_a_refused_filing_writes_no_callback(app, client, session, cats, receiver, subscription):
    sm = app.appbuilder.sm
    key = sm.create_api_key(sm.find_user(username="hotline12345"), "callbacks")["key"]
    response = client.post(
        "/api/v1/case/",
        headers={"Authorization": f"Bearer {key}"},
        json={"case_type": "complaint", "channel": "phone_12345", "title": "缺内容", "content": " "},
    )
    assert response.status_code == 422
    assert callback_rows(session) == []


# --- where callbacks may go ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/hook",
        "https://192.168.1.20/hook",
        "https://localhost/hook",
        "https://127.0.0.1:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "http://8.8.8.8/hook",  # public, but plain http
        "https://user:pass@8.8.8.8/hook",
        "ftp://8.8.8.8/hook",
        "https:///hook",
        "not a url",
        "",
    ],
)
def test_a_callback_to_an_internal_or_unsafe_address_is_refused_on_save(session, platform, url):
    with pytest.raises(Invalid):
        callbacks.register_subscription(session, user=platform, url=url, now=NOW)
    assert session.query(CallbackSubscription).count() == 0


def test_the_allow_list_permits_http_and_an_internal_host_only_for_that_host(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_ALLOW_HTTP_HOSTS", ["127.0.0.1"])
    assert callbacks.check_url("http://127.0.0.1:9000/cb") == "http://127.0.0.1:9000/cb"
    with pytest.raises(Invalid):
        callbacks.check_url("http://10.0.0.5/cb")
    with pytest.raises(Invalid):
        callbacks.check_url("https://localhost/cb")
    assert callbacks.check_url("https://8.8.8.8/cb") == "https://8.8.8.8/cb"  # public https: always


def test_only_a_connected_systems_user_gets_a_subscription(session, receiver):
    clerk = session.query(Staff).filter_by(username="clerk").one()
    with pytest.raises(Invalid):
        callbacks.register_subscription(session, user=clerk, url=receiver.url, now=NOW)


def test_an_address_refused_at_delivery_is_not_called(
    app, session, client, cats, receiver, subscription, monkeypatch
):
    file_through_api(app, client, cats)
    [filed] = callback_rows(session)
    monkeypatch.setitem(app.config, "CALLBACK_ALLOW_HTTP_HOSTS", [])  # the administrator withdrew it
    assert delivery.deliver(session, filed.id, clock.utcnow()) == "pending"
    assert "refused" in filed.last_error and receiver.requests == []


def test_a_host_whose_address_changes_to_an_internal_one_is_refused_when_connecting(
    app, session, client, cats, platform, receiver, monkeypatch
):
    """DNS rebinding: public when saved, the receiver's loopback address when called."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    answers = {"callback.example.com": "93.184.216.34"}
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setitem(app.config, "CALLBACK_ALLOW_HTTP_HOSTS", [])
    callbacks.register_subscription(session, user=platform, url="https://callback.example.com/cb", now=NOW)
    session.commit()
    file_through_api(app, client, cats)
    [filed] = callback_rows(session)
    answers["callback.example.com"] = "127.0.0.1"
    assert delivery.deliver(session, filed.id, clock.utcnow()) == "pending"
    assert "internal address" in filed.last_error and receiver.requests == []


def test_a_redirect_is_not_followed(app, session, client, cats, receiver, subscription):
    receiver.script = [302]
    file_through_api(app, client, cats)
    [filed] = callback_rows(session)
    assert delivery.deliver(session, filed.id, clock.utcnow()) == "pending"
    assert "302" in filed.last_error and len(receiver.requests) == 1


# --- the administrators' screen ------------------------------------------------------------------


def test_an_administrator_registers_a_callback_and_sees_its_secret_once(
    app, session, client, platform, receiver
):
    login(client, "admin")
    refused = client.post("/callbacks/add", data={"user": platform.id, "url": "https://169.254.169.254/x"})
    assert refused.status_code == 200 and session.query(CallbackSubscription).count() == 0
    assert "internal address" in refused.get_data(as_text=True) or "内部地址" in refused.get_data(
        as_text=True
    )
    answer = client.post(
        "/callbacks/add",
        data={"user": platform.id, "url": receiver.url, "active": "y"},
        follow_redirects=True,
    )
    [row] = session.query(CallbackSubscription).all()
    secret = row.secret
    assert secret and secret in answer.get_data(as_text=True)  # shown once, right after
    raw = session.execute(select(type_coerce(CallbackSubscription.secret, Text))).scalar()
    assert secret not in raw  # stored encrypted
    for page in ("/callbacks/list/", f"/callbacks/show/{row.id}", f"/callbacks/edit/{row.id}"):
        body = client.get(page).get_data(as_text=True)
        assert receiver.url in body and secret not in body, page
    client.post(f"/callbacks/edit/{row.id}", data={"url": receiver.url})  # "active" unticked
    session.expire_all()
    assert session.get(CallbackSubscription, row.id).active is False


def test_the_form_offers_only_the_connected_systems_users(app, session, client, platform):
    login(client, "admin")
    form = client.get("/callbacks/add").get_data(as_text=True)
    offered = {int(i) for i in re.findall(r'<option value="(\d+)"', form)}
    systems = {u.id for u in session.query(Staff) if any(r.name == "Integration" for r in u.roles)}
    admin = session.query(Staff).filter_by(username="admin").one()
    assert platform.id in offered and offered == systems and admin.id not in offered
    refused = client.post("/callbacks/add", data={"user": admin.id, "url": "https://8.8.8.8/x"})
    assert refused.status_code == 200 and session.query(CallbackSubscription).count() == 0


def test_other_roles_cannot_open_the_callback_screen(app, client):
    for username in ("clerk", "supervisor"):
        login(client, username)
        assert client.get("/callbacks/list/").status_code in (302, 403)


def test_the_outbox_screen_shows_a_callback_without_its_secret(app, session, client, cats, subscription):
    _, secret = subscription
    number = file_through_api(app, client, cats)
    [filed] = callback_rows(session)
    login(client, "admin")
    listing = client.get("/outbox/list/?_flt_0_channel=callback")
    shown = client.get(f"/outbox/show/{filed.id}")
    assert listing.status_code == 200 and shown.status_code == 200
    for page in (listing, shown):
        assert number in page.get_data(as_text=True) and secret not in page.get_data(as_text=True)


def test_a_callback_url_is_shown_escaped(app, session, client, platform):
    url = 'https://8.8.8.8/hook?x="><script>alert(1)</script>'
    subscription, _ = callbacks.register_subscription(session, user=platform, url=url, now=NOW)
    session.commit()
    login(client, "admin")
    for page in ("/callbacks/list/", f"/callbacks/show/{subscription.id}"):
        body = client.get(page).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)" in body, page


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "https://[64:ff9b::a00:5]/hook",  # NAT64 of 10.0.0.5
        "https://[64:ff9b:1::a00:5]/hook",  # a local-use NAT64 prefix
        "https://[::ffff:0:7f00:1]/hook",  # IPv4-translated 127.0.0.1
        "https://[::127.0.0.1]/hook",  # IPv4-compatible 127.0.0.1
        "https://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "https://[2002:a00:5::1]/hook",  # 6to4 of 10.0.0.5
        "https://192.0.0.8/hook",  # IETF protocol assignments: not global (CVE-2024-4032)
        "https://192.0.0.170/hook",  # NAT64 discovery
    ],
)
def test_an_internal_address_inside_an_ipv6_one_or_missed_by_old_pythons_is_refused(session, platform, url):
    with pytest.raises(Invalid):
        callbacks.register_subscription(session, user=platform, url=url, now=NOW)
    assert session.query(CallbackSubscription).count() == 0


def test_public_addresses_in_those_forms_stay_allowed():
    for address in ("8.8.8.8", "64:ff9b::808:808", "::ffff:8.8.8.8", "2606:4700::1111", "192.0.0.9"):
        assert callbacks.is_public_address(address), address
