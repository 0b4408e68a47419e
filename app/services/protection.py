"""Reporter protection: receipts, who may see an identity, and the record of every look.

Identity is shown only to those entitled for the case (DOMAIN.md, seeds 000/004): supervisors,
who investigate, and the handling department only for named, non-confidential cases that are
not reports about officials. Every look is appended to IdentityAccess.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from flask import current_app

from app.enums import CaseType
from app.errors import Invalid, NotAllowed
from app.receipts import code_hash, keyed_digest, new_query_code
from app.services.actor import Actor
from app.workflow import N_, Role
from models import Case, IdentityAccess, Reporter

CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")


def _key() -> str:
    return current_app.config["QUERY_CODE_KEY"]


def normalize_company(name: str) -> str:
    """Compare company names blind to width, spaces and legal-form suffixes."""
    name = unicodedata.normalize("NFKC", name).replace(" ", "").strip()
    for suffix in COMPANY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def new_reporter(
    *,
    receipt_number: str,
    now: datetime,
    anonymous: bool,
    confidential: bool,
    name=None,
    phone=None,
    company=None,
    credit_code=None,
) -> tuple[Reporter, str]:
    """Build a reporter with a fresh query code; return it with the code (shown once)."""
    if credit_code and not CREDIT_CODE.match(credit_code.upper()):
        raise Invalid(
            N_("The unified social credit code must have 18 characters (digits and capital letters).")
        )
    if phone and not PHONE.match(phone):
        raise Invalid(N_("Enter a valid phone number."))
    party = (credit_code or "").upper() or (normalize_company(company) if company else "")
    code = new_query_code()
    reporter = Reporter(
        anonymous=anonymous,
        confidential=confidential and not anonymous,
        name=None if anonymous else name,
        phone=None if anonymous else phone,
        company=None if anonymous else company,
        credit_code=None if anonymous else (credit_code or "").upper() or None,
        company_digest=keyed_digest(_key(), party) if party and not anonymous else None,
        receipt_number=receipt_number,
        code_hash=code_hash(_key(), receipt_number, code),
        created_at=now,
    )
    return reporter, code


def receipt_hash(number: str, code: str) -> str | None:
    return code_hash(_key(), number, code)


def can_see_identity(case: Case, actor: Actor, reporter: Reporter | None = None) -> bool:
    """Say whether the actor may see who filed the case (a given reporter, or any of them)."""
    reporters = [reporter] if reporter else case.reporters
    named = [r for r in reporters if not r.anonymous]
    if not named:
        return False
    if Role.SUPERVISOR in actor.roles:
        return True
    handling = actor.department_id is not None and any(
        a.department_id == actor.department_id for a in case.active_assignments
    )
    return (
        Role.HANDLER in actor.roles
        and handling
        and case.case_type != CaseType.REPORT
        and any(not r.confidential for r in named)
    )


def reveal_identity(
    session, case: Case, *, actor: Actor, now: datetime, purpose: str = "view"
) -> list[Reporter]:
    """Return the named reporters the actor may see, recording the look (append-only)."""
    if not can_see_identity(case, actor):
        raise NotAllowed(N_("You are not entitled to see who filed this case."))
    shown = [
        r
        for r in case.reporters
        if not r.anonymous
        and can_see_identity(case, actor, r)
        and (Role.SUPERVISOR in actor.roles or not r.confidential)
    ]
    session.add(
        IdentityAccess(case_id=case.id, actor_id=actor.id, actor_name=actor.name, at=now, purpose=purpose)
    )
    from app.services import audit

    audit.record(
        session,
        "identity_view",
        actor=actor,
        now=now,
        subject=case.number,
        details={"purpose": purpose, "reporters": len(shown)},
    )
    session.flush()
    return shown
