"""Domain errors: each carries an HTTP status and a translatable message."""

from __future__ import annotations

from flask_babel import gettext


class DomainError(Exception):
    """A refusal the user must see: turned into a flash message or a JSON error by the callers."""

    status = 400

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        return gettext(self.msgid, **{k: str(v) for k, v in self.params.items()})


class Invalid(DomainError):
    """The input is wrong (a missing reason, an unknown department...)."""

    status = 422


class IllegalMove(DomainError):
    """The workflow does not allow this action now."""

    status = 409


class NotAllowed(DomainError):
    """The actor's role may not take this action."""

    status = 403


class NotFound(DomainError):
    """The object does not exist or the actor may not see it (the two answer alike)."""

    status = 404


class DoneMeanwhile(IllegalMove):
    """The same thing was done at the same moment (a second click, another user): a uniqueness
    rule of the database refused this one, and nothing of it was saved."""

    def __init__(self) -> None:
        super().__init__(
            "This was done at the same moment by another request (a second click or another "
            "user); nothing was saved twice. Reload the page to see the case as it is now."
        )
