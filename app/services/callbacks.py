"""Callbacks to connected systems: the cases a system filed through the API (the 12345
platform) are reported back to its callback URL as signed JSON.

- Which events: every status change of the case, the reply (its public text only) and the
  rating; never a note, a staff name or the reporter's identity, and the case by its number.
- How: ``event_recorded`` (called where every case event is appended) marks the event; once
  it is flushed and has an id, one outbox row per active subscription of the user who filed
  the case is written in the same transaction (channel "callback", key
  ``callback:<subscription>:<event>``: never written twice, so never sent twice), handed
  to the delivery jobs after the commit like every outbox message. The delivery job POSTs it
  (``send``) and the outbox retries it with its backoff.
- Order: the events of a case reach a subscription in the order they happened: an event is
  not sent while an earlier one of the same case for the same subscription waits for a retry
  (``blocking``); the next one is woken when it is sent. A message given up after the last
  attempt no longer holds the others back. Every payload also carries its ``sequence`` in the
  case's history.
- Where to: https, or http for the hosts an administrator allows (CALLBACK_ALLOW_HTTP_HOSTS).
  A host that resolves to a private, loopback, link-local or otherwise non-public address is
  refused when the subscription is saved and again when connecting (the address actually
  connected to is the one checked, so a DNS answer changed in between does not get through);
  redirects are never followed.
- Signature: ``X-YS110-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the
  subscription's secret, ``X-YS110-Timestamp`` (Unix seconds) and ``X-YS110-Event-Id`` (the
  receiver drops an id it has seen). The receiver's check is in the README. This is a plain
  HMAC rather than itsdangerous because the receiver is another vendor's system: the scheme
  must be a few lines in any language.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app import queue
from app.clock import to_local
from app.errors import Invalid
from app.services import notifications as outbox
from app.services.bulk import insert_rows
from app.transaction import after_commit
from app.workflow import N_, Action
from models import CallbackSubscription, Case, CaseEvent, Notification, Staff

CHANNEL = "callback"
TEMPLATE = "case_callback"
MAX_URL = 500
_PENDING = "callback_events"
_SUBSCRIBERS = "callback_subscribers"
# The actions whose event carries a rating that became the case's rating (cases.RATING_ACTIONS).
_RATING_ACTIONS = {Action.EVALUATE.value, Action.RECORD_REVISIT.value}

# How the outbox screen shows such a message (the JSON itself is built at delivery).


class CallbackFailed(Exception):
    """A delivery attempt failed; the message is safe to record (no secret, no URL)."""


class Dropped(CallbackFailed):
    """The subscription is gone or disabled: the message is given up, not retried."""


# --- where callbacks may go ------------------------------------------------------------------


def _allowed_hosts() -> set[str]:
    return {h.lower() for h in current_app.config.get("CALLBACK_ALLOW_HTTP_HOSTS") or ()}


# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it through a
# translator or tunnel (NAT64's well-known prefix, IPv4-translated and IPv4-compatible forms):
# such an address counts as its IPv4 one.
_IPV4_IN_LAST_32 = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96")]
# Not globally reachable by IANA's registries, which Python's ipaddress only follows since
# 3.12.4 / 3.11.10 (CVE-2024-4032): checked here so the interpreter's version does not matter.
_NOT_GLOBAL = [
    ipaddress.ip_network(n)
    for n in ("192.0.0.0/24", "64:ff9b:1::/48", "2001::/23", "2001:db8::/32", "fc00::/7")
]
_GLOBAL_EXCEPTIONS = [ipaddress.ip_network(n) for n in ("192.0.0.9/32", "192.0.0.10/32")]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in network for network in _IPV4_IN_LAST_32):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """Whether an IP address is a public one (not private, loopback, link-local, multicast,
    reserved, shared or unspecified; an IPv6 address that carries an IPv4 one, mapped,
    translated or NAT64, counts as that IPv4 one; a 6to4 or Teredo tunnel address is none)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None or ip.teredo is not None:
            return False
        ip = _embedded_ipv4(ip) or ip
    if any(ip in network for network in _NOT_GLOBAL) and not any(ip in n for n in _GLOBAL_EXCEPTIONS):
        return False
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> list[tuple]:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise CallbackFailed(f"host not resolved ({type(error).__name__})") from None


def check_url(url: str, *, resolve: bool = True) -> str:
    """Return the callback URL cleaned, or refuse it (``Invalid``): https only (http for an
    allowed host), no credentials in it, and a host that resolves to public addresses only
    (any address for an allowed host; at delivery the address connected to is checked)."""
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise Invalid(N_("Enter the callback URL."))
    if len(url) > MAX_URL:
        raise Invalid(N_("The callback URL is too long."))
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Invalid(N_("The callback URL is not a valid URL.")) from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in url):
        raise Invalid(N_("The callback URL is not a valid URL."))
    if parts.username is not None or parts.password is not None:
        raise Invalid(N_("The callback URL must not contain a user name or password."))
    allowed = host in _allowed_hosts()
    if parts.scheme != "https" and not allowed:
        raise Invalid(N_("The callback URL must use https."))
    if not resolve:
        return url
    try:
        addresses = {info[4][0] for info in _resolve(host, port)}
    except CallbackFailed:
        raise Invalid(N_("The callback URL's host cannot be resolved.")) from None
    if not allowed and not all(is_public_address(a) for a in addresses):
        raise Invalid(
            N_("The callback URL's host is an internal address; only an administrator can allow such a host.")
        )
    return url


def _guarded_connection(address, timeout=None, source_address=None, *, allow_internal: bool):
    """socket.create_connection that refuses non-public addresses (checked on the address
    it connects to, after resolving: no second lookup for an attacker's DNS to change)."""
    host, port = address
    infos = _resolve(host, port)
    if not allow_internal and not all(is_public_address(info[4][0]) for info in infos):
        raise CallbackFailed("refused: the host resolves to an internal address")
    error = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as failed:
            sock.close()
            error = failed
    raise error or CallbackFailed("no address to connect to")


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, allow_internal: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = partial(_guarded_connection, allow_internal=allow_internal)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, allow_internal: bool, **kwargs):
        super().__init__(*args, context=ssl.create_default_context(), **kwargs)
        self._create_connection = partial(_guarded_connection, allow_internal=allow_internal)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> int:
    """POST ``body`` to ``url`` (checked again first) and return the status; redirects are
    not followed (http.client never does) and no proxy from the environment is used."""
    try:
        check_url(url, resolve=False)  # the allow list may have changed; the address is checked below
    except Invalid as refused:
        raise CallbackFailed(f"refused: {refused.msgid}") from None
    parts = urlsplit(url)
    allow_internal = (parts.hostname or "").lower() in _allowed_hosts()
    connection_class = _HTTPSConnection if parts.scheme == "https" else _HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout, allow_internal=allow_internal)
    try:
        connection.request(
            "POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body, headers
        )
        response = connection.getresponse()
        response.read(65536)  # the answer itself is not used
        return response.status
    finally:
        connection.close()


# --- subscriptions -----------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def connected_system_users(session):
    """The users a callback may be registered for: the connected systems' (role Integration)."""
    from app.workflow import Role

    return session.query(Staff).filter(Staff.roles.any(name=Role.INTEGRATION.value)).order_by(Staff.username)


def check_subscriber(user: Staff | None) -> Staff:
    """Refuse a subscription for nobody, or for a user that is not a connected system's."""
    from app.workflow import Role

    if user is None:
        raise Invalid(N_("Choose the connected system's user."))
    if not any(role.name == Role.INTEGRATION.value for role in user.roles):
        raise Invalid(N_("Only a connected system's user (role Integration) receives callbacks."))
    return user


def check_new_address(session, user: Staff | None, url: str) -> None:
    """Refuse a second subscription of one system to one address (a form sent twice, a page
    reloaded after the save): its cases would be delivered twice, signed by two secrets."""
    if user is None or not url:
        return
    found = session.scalar(
        select(CallbackSubscription).where(
            CallbackSubscription.user_id == user.id, CallbackSubscription.url == url
        )
    )
    if found is not None:
        raise Invalid(
            N_("This system already has a callback to this address (edit that one to change or enable it).")
        )


def prepare_subscription(subscription: CallbackSubscription, *, now: datetime) -> str:
    """Check a new subscription's user and URL, give it a new secret and return the secret
    (shown once: only its encryption is stored)."""
    check_subscriber(subscription.user)
    subscription.url = check_url(subscription.url)
    subscription.secret = new_secret()
    subscription.created_at = now
    if subscription.active is None:
        subscription.active = True
    return subscription.secret


def register_subscription(
    session, *, user: Staff, url: str, now: datetime
) -> tuple[CallbackSubscription, str]:
    """Register a callback URL for a connected system's user; return it with its secret."""
    subscription = CallbackSubscription(user=user, url=url, active=True)
    secret = prepare_subscription(subscription, now=now)
    session.add(subscription)
    session.flush()
    return subscription, secret


# --- events into the outbox --------------------------------------------------------------------


def _concerns(event: CaseEvent) -> bool:
    return (
        event.from_status != event.to_status
        or event.action == Action.REPLY.value
        or (event.action in _RATING_ACTIONS and bool((event.data or {}).get("rating")))
    )


def event_recorded(case: Case, event: CaseEvent) -> None:
    """Mark a case event for the connected system that filed the case (no SQL here: the
    outbox rows are written once the event is flushed and has its id)."""
    if case.created_by_id is None or not _concerns(event):
        return
    session = object_session(case)
    if session is None:
        return
    session.info.setdefault(_PENDING, []).append((case, event, len(case.events)))


# The active subscriptions of one user, as an array (PostgreSQL): a filing reads them in the
# statement that writes its rows (app.services.cases), then tells them with known_subscribers.
SUBSCRIPTIONS_OF_USER = (
    "(SELECT array_agg(id ORDER BY id) FROM callback_subscription "
    "WHERE user_id = :subscriber AND active IS true)"
)


def known_subscribers(session, user_id: int, subscription_ids) -> None:
    """Tell this transaction the active subscriptions of a user, read by the caller."""
    session.info.setdefault(_SUBSCRIBERS, {})[user_id] = list(subscription_ids or ())


def _subscribers(session, user_ids: set[int]) -> dict[int, list[int]]:
    """The active subscriptions of these users, read once per transaction."""
    known = session.info.setdefault(_SUBSCRIBERS, {})
    missing = user_ids - known.keys()
    if missing:
        for user_id in missing:
            known[user_id] = []
        rows = session.execute(
            select(CallbackSubscription.user_id, CallbackSubscription.id)
            .where(CallbackSubscription.user_id.in_(missing), CallbackSubscription.active.is_(True))
            .order_by(CallbackSubscription.id)
        )
        for user_id, subscription_id in rows:
            known[user_id].append(subscription_id)
    return known


@sa_event.listens_for(Session, "after_flush_postexec")
def _write_after_flush(session, _flush_context) -> None:
    write_outbox(session)


def write_outbox(session) -> None:
    """Write the outbox rows of the events recorded so far that have their id (after each
    flush; a path that inserts its rows without the unit of work calls it itself)."""
    pending = session.info.get(_PENDING)
    if not pending:
        return
    ready = [p for p in pending if p[1].id is not None and p[0].number]
    if not ready:
        return
    session.info[_PENDING] = [p for p in pending if p[1].id is None or not p[0].number]
    rows = []
    with session.no_autoflush:
        subscribers = _subscribers(session, {case.created_by_id for case, _, _ in ready})
        for case, event, sequence in ready:
            for subscription_id in subscribers.get(case.created_by_id, ()):
                rows.append(
                    {
                        "key": f"callback:{subscription_id}:{event.id}",
                        "channel": CHANNEL,
                        "template": TEMPLATE,
                        "params": {
                            "number": case.number,
                            "event": event.action,
                            "status": event.to_status,
                            "subscription_id": subscription_id,
                            "event_id": event.id,
                            "sequence": sequence,
                            "expected_datetime": _iso(case.due_at),
                        },
                        "user_id": case.created_by_id,
                        "address": None,
                        "case_id": case.id,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": event.at,
                        "created_at": event.at,
                    }
                )
    if not rows:
        return
    table = Notification.__table__
    new_ids = (
        insert_rows(session, table, rows, skip_conflicts_on="key", returning=[table.c.id]).scalars().all()
    )
    if new_ids and queue.enabled():  # handed to the delivery jobs once committed, in event order
        after_commit(
            session, lambda: outbox.hand_to_workers(sorted(new_ids)), key=f"callbacks:{min(new_ids)}"
        )


@sa_event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_SUBSCRIBERS, None)


# --- delivery ----------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    local = to_local(moment)
    return local.isoformat(timespec="seconds") if local else None


def payload(session, notification: Notification) -> dict:
    """The JSON of one callback: what the case's event says a connected system may know."""
    params = notification.params or {}
    event = session.get(CaseEvent, params.get("event_id"))
    case = session.get(Case, notification.case_id)
    if event is None or case is None:
        raise Dropped("the case event no longer exists")
    body = {
        "event_id": event_key(case, event, params["sequence"]),
        "sequence": params["sequence"],
        "event": event.action,
        "case_number": case.number,
        "status": event.to_status,
        "from_status": event.from_status,
        "at": _iso(event.at),
    }
    if event.action == Action.REPLY.value and event.public_text:
        body["reply"] = event.public_text
    if event.action in _RATING_ACTIONS and (event.data or {}).get("rating"):
        body["rating"] = event.data["rating"]
    if params.get("expected_datetime"):
        body["expected_datetime"] = params["expected_datetime"]
    return body


def event_key(case: Case, event: CaseEvent, sequence: int) -> str:
    """The event's id for the receiver: unique even if two events of a case were recorded at
    once with the same sequence (a reporter's rating beside a staff action), without giving out
    the platform's internal row id (an opaque digest of it)."""
    digest = hmac.new(
        current_app.config["SECRET_KEY"].encode(), f"case-event:{event.id}".encode(), hashlib.sha256
    ).hexdigest()[:10]
    return f"{case.number}-{sequence}-{digest}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-YS110-Signature value: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _subscription(session, notification: Notification) -> CallbackSubscription:
    subscription = session.get(CallbackSubscription, (notification.params or {}).get("subscription_id"))
    if subscription is None or not subscription.active:
        raise Dropped("the subscription is disabled or deleted")
    if not subscription.secret:
        raise CallbackFailed("the subscription's secret cannot be read (IDENTITY_KEY)")
    return subscription


def _same_stream(notification: Notification):
    prefix = notification.key.rsplit(":", 1)[0] + ":"  # callback:<subscription>:
    return (
        Notification.channel == CHANNEL,
        Notification.case_id == notification.case_id,
        Notification.key.like(f"{prefix}%"),
    )


def blocking(session, notification: Notification) -> Notification | None:
    """The earliest message of the same case and subscription still waiting for delivery
    before this one (None: this one may go)."""
    return session.execute(
        select(Notification)
        .where(
            *_same_stream(notification), Notification.id < notification.id, Notification.status == "pending"
        )
        .order_by(Notification.id)
        .limit(1)
    ).scalar_one_or_none()


def wake_next(session, notification: Notification) -> None:
    """Once this message is done (sent or given up), hand the next one of its case and
    subscription to the workers after the commit (it waited for this one)."""
    if not queue.enabled():
        return
    following = session.execute(
        select(Notification.id)
        .where(
            *_same_stream(notification), Notification.id > notification.id, Notification.status == "pending"
        )
        .order_by(Notification.id)
        .limit(1)
    ).scalar_one_or_none()
    if following is not None:
        after_commit(session, lambda: outbox.hand_to_workers([following]), key=f"callback-next:{following}")


def send(session, notification: Notification, now: datetime) -> None:
    """POST one callback, signed; raise CallbackFailed (a safe message) unless it answered 2xx."""
    subscription = _subscription(session, notification)
    content = payload(session, notification)
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    timestamp = str(int(now.replace(tzinfo=UTC).timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "YS110-Callback/1",
        "X-YS110-Event-Id": content["event_id"],
        "X-YS110-Timestamp": timestamp,
        "X-YS110-Signature": signature(subscription.secret, timestamp, data),
    }
    timeout = float(current_app.config.get("CALLBACK_TIMEOUT_SECONDS", 10))
    try:
        status = post(subscription.url, data, headers, timeout=timeout)
    except CallbackFailed:
        raise
    except Exception as error:  # noqa: BLE001 - recorded without the URL or the secret
        text = str(error).replace(subscription.url, "***").replace(subscription.secret, "***")
        raise CallbackFailed(f"{type(error).__name__}: {text}"[:300]) from None
    if not 200 <= status < 300:
        raise CallbackFailed(f"the receiver answered {status}")
