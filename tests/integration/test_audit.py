"""The audit log is append-only and hash-chained: an edited or deleted record is detected."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from app.services import audit
from models import AuditRecord
from tests.conftest import api_token as conftest_api_token
from tests.conftest import at, login

NOW = at("2026-11-02 10:00")


def test_logins_role_changes_exports_and_config_changes_are_recorded(app, session):
    client = app.test_client()
    before = session.query(AuditRecord).count()
    client.post("/login/", data={"username": "clerk", "password": "wrong"})
    login(client, "admin")
    client.post("/settingview/edit/due_soon_hours", data={"value": "36"})
    kinds = [r.kind for r in session.query(AuditRecord).order_by(AuditRecord.id).all()[before:]]
    assert "login" in kinds and "login_failed" in kinds and "config_change" in kinds
    assert audit.verify(session) == []


def test_an_edited_record_is_detected(app, session):
    for i in range(3):
        audit.record(session, "export", actor=None, now=NOW, subject=f"test-{i}")
    session.commit()
    assert audit.verify(session) == []
    target = session.query(AuditRecord).order_by(AuditRecord.id.desc()).offset(1).first()
    with pytest.raises(PermissionError):  # the ORM refuses
        target.subject = "rewritten"
        session.flush()
    session.rollback()
    session.execute(
        text("UPDATE audit_record SET subject = 'rewritten' WHERE id = :id"), {"id": target.id}
    )  # a determined database user does not
    session.commit()
    problems = audit.verify(session)
    assert any(f"record {target.id}" in p and "edited" in p for p in problems)
    runner = CliRunner()
    result = runner.invoke(app.cli, ["ys", "audit-verify"])
    assert result.exit_code == 1
    session.execute(
        text("UPDATE audit_record SET subject = :s WHERE id = :id"), {"s": f"test-{1}", "id": target.id}
    )
    session.commit()
    assert audit.verify(session) == []


def test_a_deleted_record_is_detected(app, session):
    rows = [audit.record(session, "export", actor=None, now=NOW, subject=f"gone-{i}") for i in range(3)]
    session.commit()
    session.execute(text("DELETE FROM audit_record WHERE id = :id"), {"id": rows[1].id})
    session.commit()
    assert any("does not follow" in p for p in audit.verify(session))
    # Deleting the newest record is detected too: the head remembers where the chain ended.
    session.execute(text("DELETE FROM audit_record WHERE id = :id"), {"id": rows[2].id})
    session.commit()
    assert any("head" in p for p in audit.verify(session))
    _restore_chain(session)


def _restore_chain(session):
    """Later tests need an intact chain: start a fresh one (test data only)."""
    session.execute(text("DELETE FROM audit_record"))
    session.execute(text("DELETE FROM audit_head"))
    session.commit()


def test_a_configuration_change_through_the_api_is_audited_with_its_author(app, session, depts):
    client = app.test_client()
    token = conftest_api_token(client, "admin")
    before = session.query(AuditRecord).count()
    made = client.post(
        "/api/v1/department/",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "code": "X996",
            "name": "长河县医保局",
            "level": "county",
            "parent_id": depts["C10"].id,
            "region": "清源省",
        },
    )
    assert made.status_code == 201
    [row] = session.query(AuditRecord).order_by(AuditRecord.id).all()[before:]
    from models import Staff

    admin = session.query(Staff).filter_by(username="admin").one()
    assert (row.kind, row.subject, row.actor_id) == ("config_change", "Department:add", admin.id)
    assert "长河县医保局" in row.details["item"]
    assert audit.verify(session) == []


def test_a_configuration_change_and_its_record_commit_or_roll_back_together(session):
    from models import Setting

    before = session.query(AuditRecord).count()
    setting = session.get(Setting, "due_soon_hours")
    old = setting.value
    setting.value = "47"
    session.flush()
    session.rollback()  # the change is gone, and so is its record
    assert session.query(AuditRecord).count() == before
    setting = session.get(Setting, "due_soon_hours")
    setting.value = "47"
    session.commit()
    [row] = session.query(AuditRecord).order_by(AuditRecord.id).all()[before:]
    assert row.subject == "Setting:edit" and row.actor_name == "system"
    assert row.details["changes"]["value"] == [old, "47"]


def test_a_role_given_a_permission_is_audited_with_what_it_gained(app, session):
    sm = app.appbuilder.sm
    before = session.query(AuditRecord).count()
    clerk = sm.find_role("Clerk")
    extra = sm.find_permission_view_menu("can_list", "StaffUserView")
    clerk.permissions.append(extra)
    session.commit()
    [row] = session.query(AuditRecord).order_by(AuditRecord.id).all()[before:]
    assert row.subject == "Role:edit"
    assert row.details["changes"]["permissions"]["added"] == [str(extra)]


def test_a_password_reset_an_e_mail_change_and_a_new_api_key_are_audited(app, session):
    from models import Staff

    sm = app.appbuilder.sm
    before = session.query(AuditRecord).count()
    user = session.query(Staff).filter_by(username="supervisor").one()
    sm.reset_password(user.id, "Another#River-2047")
    user.email = "someone-else@example.org"
    session.commit()
    sm.create_api_key(session.query(Staff).filter_by(username="hotline12345").one(), "test key")
    session.commit()
    rows = session.query(AuditRecord).order_by(AuditRecord.id).all()[before:]
    changed = [c for r in rows if r.kind == "role_change" for c in r.details["changed"]]
    assert "password" in changed and "email" in changed
    assert not any("Another#River-2047" in str(r.details) for r in rows)  # never the password itself
    assert any(r.subject == "ApiKey:add" for r in rows)
