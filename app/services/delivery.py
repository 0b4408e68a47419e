"""Deliver outbox messages: e-mail (SMTP), SMS (a pluggable HTTP gateway), the in-app inbox
and callbacks to connected systems (signed JSON, app.services.callbacks).

Delivery is at least once (a job may run twice); the notification's key makes it seen once:
the inbox has one row per notification, e-mails carry the key as Message-ID, SMS gateways
receive it as Idempotency-Key and callback receivers as X-YS110-Event-Id. Errors are recorded
without the address (or a callback's URL and secret).
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app

from app.services import callbacks
from app.services.notifications import render
from models import InboxMessage, Notification

MAX_ATTEMPTS = 8


class NotConfigured(Exception):
    """No gateway is configured for this channel (the demo): the message is held in the outbox."""


def send_email(to: str, subject: str, body: str, key: str) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        raise NotConfigured("email")
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{key.replace(':', '.')}@{config['MAIL_DOMAIN']}>"
    message.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


class HttpSmsGateway:
    """POST {"to", "text"} as JSON with an Idempotency-Key header (adapt for a vendor by
    subclassing and pointing SMS_GATEWAY_CLASS at it)."""

    def __init__(self, url: str, token: str | None = None):
        self.url, self.token = url, token

    def send(self, to: str, text: str, key: str) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"to": to, "text": text}).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status >= 300:
                raise OSError(f"SMS gateway answered {response.status}")


def send_sms(to: str, text: str, key: str) -> None:
    config = current_app.config
    if not config.get("SMS_GATEWAY_URL"):
        raise NotConfigured("sms")
    module, _, name = config.get("SMS_GATEWAY_CLASS", "").rpartition(".")
    gateway_class = HttpSmsGateway
    if module:
        import importlib

        gateway_class = getattr(importlib.import_module(module), name)
    gateway_class(config["SMS_GATEWAY_URL"], config.get("SMS_GATEWAY_TOKEN")).send(to, text, key)


def deliver(session, notification_id: int, now: datetime) -> str:
    """Deliver one message (idempotent); return its status afterwards."""
    notification = (
        session.query(Notification)
        .filter_by(id=notification_id)
        .with_for_update(skip_locked=True)
        .one_or_none()
    )
    if notification is None:
        return "busy"  # another worker holds it, or it does not exist
    if notification.status in ("sent", "failed"):
        return notification.status
    if notification.channel == callbacks.CHANNEL:
        earlier = callbacks.blocking(session, notification)
        if earlier is not None:  # a case's events go in order: woken when the earlier one is done
            notification.next_attempt_at = max(earlier.next_attempt_at, now + timedelta(minutes=1))
            session.flush()
            return "waiting"
    else:
        subject, body = render(notification)
    try:
        if notification.channel == callbacks.CHANNEL:
            callbacks.send(session, notification, now)
        elif notification.channel == "inbox":
            if not session.query(InboxMessage.id).filter_by(notification_id=notification.id).first():
                session.add(
                    InboxMessage(
                        notification_id=notification.id,
                        user_id=notification.user_id,
                        subject=subject,
                        body=body,
                        case_id=notification.case_id,
                        created_at=now,
                    )
                )
        elif notification.channel == "email":
            send_email(notification.address, subject, body, notification.key)
        elif notification.channel == "sms":
            send_sms(notification.address, f"【营商110】{body}", notification.key)
        else:
            raise ValueError(f"unknown channel {notification.channel}")
    except NotConfigured as held:
        notification.status, notification.last_error = "held", f"no {held} gateway configured"
    except callbacks.Dropped as dropped:
        notification.status, notification.last_error = "failed", str(dropped)
    except Exception as error:  # noqa: BLE001 - any failure is retried later
        notification.attempts += 1
        notification.last_error = (
            type(error).__name__ + ": " + str(error).replace(notification.address or "\0", "***")[:400]
        )
        notification.status = "failed" if notification.attempts >= MAX_ATTEMPTS else "pending"
        notification.next_attempt_at = now + timedelta(minutes=2**notification.attempts)
    else:
        notification.attempts += 1
        notification.status, notification.sent_at, notification.last_error = "sent", now, None
    if notification.channel == callbacks.CHANNEL and notification.status in ("sent", "failed"):
        callbacks.wake_next(session, notification)
    session.flush()
    return notification.status
