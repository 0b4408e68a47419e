"""Service windows: the link their QR code carries."""

from __future__ import annotations

import secrets

from flask import current_app


def new_window_token() -> str:
    """An unguessable token for a window's QR link (it presets the window, not any secret)."""
    return secrets.token_urlsafe(12)


def window_filing_url(token: str) -> str:
    """The address a window's QR code opens: the public filing page with the window preset."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/report/?w={token}"
