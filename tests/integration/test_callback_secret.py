"""The signing secret of a new callback is shown once, on the page the administrator lands on
after saving, and never travels in the session cookie (signed, not encrypted: whoever gets
the cookie could read it); the page is not cached, the secret is escaped, and the secret
shown is the one the deliveries are really signed with."""

from __future__ import annotations

import html
import re

import pytest

from app.services import callbacks
from models import CallbackSubscription, Case, Staff
from tests.conftest import login
from tests.integration.test_callbacks import Receiver, documented_verifier, file_through_api, work

# Markup and an entity in the secret: shown escaped, and the HMAC still uses the raw text.
SECRET_PREFIX = '<script>alert("s")</script>&amp;'
SHOWN = re.compile(r'<code id="callback-secret">(.*?)</code>', re.S)


@pytest.fixture
def local_receiver(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALLBACK_ALLOW_HTTP_HOSTS", ["127.0.0.1"])
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def queue(app, monkeypatch):
    """A fakeredis queue behind app.queue, with enqueuing after commit switched on."""
    import fakeredis
    from rq import Queue

    from app import queue as app_queue

    connection = fakeredis.FakeStrictRedis()
    fake = Queue("default", connection=connection)
    monkeypatch.setattr(app_queue, "default_queue", lambda: fake)
    monkeypatch.setitem(app.config, "ENQUEUE_AFTER_COMMIT", True)
    return fake, connection


@pytest.fixture
def marked_secret(monkeypatch):
    """New secrets start with markup, so that an unescaped one would show on the page."""
    fresh = callbacks.new_secret
    monkeypatch.setattr(callbacks, "new_secret", lambda: SECRET_PREFIX + fresh())


@pytest.fixture
def client(app):
    return app.test_client()


def session_values(app, response) -> list[str]:
    """Every Set-Cookie header of a response, and the Flask session it carries decoded with
    the app's own serializer (what anyone holding the cookie can read without the key)."""
    name = app.config["SESSION_COOKIE_NAME"]
    serializer = app.session_interface.get_signing_serializer(app)
    found = []
    for header in response.headers.getlist("Set-Cookie"):
        found.append(header)
        cookie, _, _ = header.partition(";")
        key, _, value = cookie.partition("=")
        if key.strip() == name and value:
            found.append(repr(serializer.loads(value.strip('"'))))
    return found


def jar_values(app, client) -> list[str]:
    """The session the browser holds now, decoded."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return []
    serializer = app.session_interface.get_signing_serializer(app)
    return [cookie.value, repr(serializer.loads(cookie.value))]


def test_the_secret_is_shown_once_escaped_and_never_in_the_session_cookie(
    app, session, client, cats, local_receiver, queue, marked_secret
):
    platform = session.query(Staff).filter_by(username="hotline12345").one()
    login(client, "admin")
    answer = client.post(
        "/callbacks/add", data={"user": platform.id, "url": local_receiver.url, "active": "y"}
    )
    [row] = session.query(CallbackSubscription).all()
    secret = row.secret
    assert secret.startswith(SECRET_PREFIX)
    bare = secret[len(SECRET_PREFIX) :]  # the random part of the secret

    # First: never in a cookie: not in the Set-Cookie headers, not in the decoded session.
    for value in session_values(app, answer) + jar_values(app, client):
        assert bare not in value

    # The page the administrator lands on shows it, once, escaped, and is never cached.
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    [shown] = SHOWN.findall(page)
    assert html.unescape(shown) == secret
    assert '<script>alert("s")' not in page and "&lt;script&gt;alert(" in page
    assert page.count(bare) == 1  # nowhere else on the page
    assert local_receiver.url in page

    # The next pages (a reload of the form, the list, the subscription) never show it again.
    for url in ("/callbacks/add", "/callbacks/list/", f"/callbacks/show/{row.id}", "/"):
        later = client.get(url, follow_redirects=True)
        assert later.status_code == 200, url
        assert bare not in later.get_data(as_text=True), url
        for value in session_values(app, later) + jar_values(app, client):
            assert bare not in value, url

    # The secret shown is the one a real delivery is signed with.
    number = file_through_api(app, client, cats)
    work(queue)
    assert session.query(Case).filter_by(number=number).one()
    [request] = local_receiver.requests
    verify = documented_verifier()
    assert verify(html.unescape(shown), request["headers"], request["body"])
    assert not verify(html.unescape(shown) + "x", request["headers"], request["body"])
    assert (
        callbacks.signature(html.unescape(shown), request["headers"]["X-YS110-Timestamp"], request["body"])
        == (request["headers"]["X-YS110-Signature"])
    )


def test_a_refused_subscription_shows_no_secret_and_saves_nothing(app, session, client, marked_secret):
    platform = session.query(Staff).filter_by(username="hotline12345").one()
    login(client, "admin")
    refused = client.post("/callbacks/add", data={"user": platform.id, "url": "https://169.254.169.254/x"})
    assert refused.status_code == 200
    assert session.query(CallbackSubscription).count() == 0
    page = refused.get_data(as_text=True)
    assert 'id="callback-secret"' not in page and SECRET_PREFIX not in html.unescape(page)


def test_the_form_sent_again_makes_no_second_subscription(
    app, session, client, local_receiver, marked_secret
):
    """A reload of the page that shows the secret sends the form again: refused with a clear
    message (the cases would otherwise be delivered twice), and no secret is shown."""
    platform = session.query(Staff).filter_by(username="hotline12345").one()
    login(client, "admin")
    form = {"user": platform.id, "url": local_receiver.url, "active": "y"}
    first = client.post("/callbacks/add", data=form)
    assert SHOWN.findall(first.get_data(as_text=True))
    again = client.post("/callbacks/add", data=form)
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert 'id="callback-secret"' not in page and SECRET_PREFIX not in html.unescape(page)
    assert "该系统已有发往此地址的回调" in page or "already has a callback" in page
    assert session.query(CallbackSubscription).count() == 1
    # the same system at another address is a subscription of its own
    client.post("/callbacks/add", data={**form, "url": local_receiver.url + "/second"})
    assert session.query(CallbackSubscription).count() == 2
