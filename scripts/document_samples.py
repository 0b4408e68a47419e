"""Render one of each official document from fresh demo data and convert every page to PNG, so a
reviewer (or a leader) can look at what the platform prints:

    .venv/bin/python scripts/document_samples.py [OUT_DIR]     # default /tmp/ys110-samples

Makes a demo instance in a temporary folder (``ys init`` + ``ys demo --cases 300``), then writes
``<name>.pdf`` and ``<name>-<page>.png`` (70 dpi) for: a 提醒敦促函, an 整改通知书, a 交办函 and a
约谈通知书 the demo issued (the issued PDFs, as frozen), the province's and 石门市's November
bulletin, the province's annual bulletin, the province's November and annual assessment
reports, a 登记回执 of a public filing (with a sample query code) and a window's QR sheet.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="ys110-samples-"))
    env = {**os.environ, "YS_DEMO": "1", "YS_VAR_DIR": str(var), "REDIS_URL": ""}
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "app.factory:create_app", "ys"]
    for command in (["init"], ["demo", "--cases", "300"]):
        subprocess.run(flask + command, cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(env)

    from sqlalchemy import select

    from app import clock
    from app.demo import actor_for
    from app.factory import create_app
    from app.services import notices as notice_services
    from app.services import reports as report_services
    from app.services import sweep
    from app.services.actor import SYSTEM
    from app.services.windows import window_filing_url
    from app.supervision import NoticeKind
    from app.transaction import unit_of_work
    from models import Assignment, Jurisdiction, Notice, Reporter, ServiceWindow
    from reports import archive
    from reports.notice_files import issued_pdf
    from reports.qr import QrWindowData, render_qr_sheet_pdf
    from reports.receipt import receipt_data, render_receipt_pdf

    app = create_app()
    files: dict[str, bytes] = {}
    with app.app_context(), unit_of_work() as session:
        now = clock.utcnow()
        sweep.run_sweep(session, now)  # the reminders and rectification notices a running sweep issues
        supervisor = actor_for(session, "supervisor")
        candidates = notice_services.interview_candidates(session, supervisor) or [
            (a.department, [a.case])  # no department qualifies yet: one with an open case
            for a in session.query(Assignment).filter(Assignment.active.is_(True)).order_by(Assignment.id)
            if a.department_id in notice_services.interview_departments(session, supervisor)
        ]
        for department, cases in candidates[:1]:
            meeting = clock.to_local(now + timedelta(days=3)).replace(hour=9, minute=30)
            notice_services.issue_interview(
                session,
                actor=supervisor,
                now=now,
                department_id=department.id,
                case_ids=[c.id for c in cases[:3]],
                details="你单位多件工单经提醒敦促、整改通知后仍未办结，群众反映强烈",
                meeting_at=meeting.strftime("%Y-%m-%d %H:%M"),
                place="清源省政务服务中心三楼会议室",
                attendees="你单位主要负责人、分管负责人及相关科室负责人",
                materials="整改情况书面报告\n逾期工单办理材料\n下一步整改措施",
            )
        session.flush()
        for kind in NoticeKind:
            notice = session.execute(
                select(Notice).where(Notice.kind == kind.value).order_by(Notice.id.desc()).limit(1)
            ).scalar()
            if notice is not None:
                files[f"notice-{kind.value}"] = issued_pdf(session, notice)
        offices = {j.code: j for j in session.query(Jurisdiction)}
        for name, kind, period, office in (
            ("bulletin-QY-2026-11", "bulletin", "2026-11", "QY"),
            ("bulletin-SM-2026-11", "bulletin", "2026-11", "SM"),
            ("bulletin-QY-2026", "bulletin", "2026", "QY"),
            ("assessment-QY-2026-11", "assessment", "2026-11", "QY"),
            ("assessment-QY-2026", "assessment", "2026", "QY"),
        ):
            report = report_services.request_report(
                session,
                actor=SYSTEM,
                now=clock.utcnow(),
                kind=kind,
                period=period,
                jurisdiction_id=offices[office].id,
            )
            archive.generate(session, report.id)
            path = report_services.report_file(report, "pdf")
            if path is None:
                raise SystemExit(f"{name} failed: {report.error}")
            files[name] = path.read_bytes()
        reporter = session.execute(select(Reporter).order_by(Reporter.id.desc()).limit(1)).scalar()
        data = receipt_data(
            reporter,
            "SAMP-LE00-0000-0000-0000-0000",
            now=clock.utcnow(),
            tracking_page=app.config["PUBLIC_BASE_URL"] + "/track/",
        )
        files["receipt"] = render_receipt_pdf(data)
        active = select(ServiceWindow).where(ServiceWindow.active.is_(True))
        window = session.execute(active).scalars().first()
        if window is not None:
            files["qr-sheet"] = render_qr_sheet_pdf(
                [
                    QrWindowData(
                        name=window.name,
                        hall=window.hall,
                        department=window.department.name,
                        url=window_filing_url(window.token),
                    )
                ],
                hotline="12345",
            )
    for name, pdf in files.items():
        (out / f"{name}.pdf").write_bytes(pdf)
        pdf_file = out / f"{name}.pdf"
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf_file), str(out / name)], check=True)
        pages = sorted(
            p for p in out.glob(f"{name}-*.png") if re.fullmatch(rf"{re.escape(name)}-\d+\.png", p.name)
        )
        print(f"{name}: {len(pages)} page(s), {pages[0] if pages else '-'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/ys110-samples"))
