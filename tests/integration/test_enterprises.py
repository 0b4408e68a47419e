"""The enterprise registry: imports report each bad row and save the others, the QR sheet never
shows a credit code, and only the administrator changes the registry."""

from __future__ import annotations

import io
import subprocess

import pdfplumber
import pytest
import zxingcpp
from openpyxl import Workbook
from PIL import Image
from sqlalchemy import select

from app.errors import Invalid
from app.inspections import credit_code_is_valid
from app.services import enterprises as svc
from models import Enterprise
from tests.conftest import at, login

NOW = at("2026-11-02 10:00")
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def code(body: str) -> str:
    """A valid credit code from 17 characters (their check character appended)."""
    total = sum(ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(body))
    return body + ALPHABET[(31 - total % 31) % 31]


A, B, C = code("91130500MA0000001"), code("91130500MA0000002"), code("91130500MA0000003")


def test_credit_code_checksum():
    assert credit_code_is_valid(A)
    wrong = A[:-1] + ("0" if A[-1] != "0" else "1")
    assert not credit_code_is_valid(wrong)
    assert not credit_code_is_valid("12345")


def test_create_refuses_bad_and_duplicate_credit_codes(session):
    made = svc.create_enterprise(
        session, actor=None, now=NOW, data={"name": "华兴机械", "credit_code": " " + A.lower() + " "}
    )
    assert made.credit_code == A and made.token and made.confirm_token and made.token != made.confirm_token
    assert made.jurisdiction is not None
    with pytest.raises(Invalid):
        svc.create_enterprise(session, actor=None, now=NOW, data={"name": "另一家", "credit_code": A})
    with pytest.raises(Invalid):
        svc.create_enterprise(
            session, actor=None, now=NOW, data={"name": "坏码", "credit_code": A[:-1] + "Z"}
        )
    with pytest.raises(Invalid):
        svc.create_enterprise(session, actor=None, now=NOW, data={"name": " ", "credit_code": B})


def test_csv_import_saves_good_rows_reports_bad_ones_and_updates_by_credit_code(session):
    svc.create_enterprise(session, actor=None, now=NOW, data={"name": "旧名称", "credit_code": A})
    bad = A[:-1] + ("0" if A[-1] != "0" else "1")
    text = (
        "企业名称,统一社会信用代码,所属地区,行业,联系人,联系电话,无事不扰\n"
        f"新名称,{A},清源省/石门市,制造业,张三,13800000000,是\n"
        f"长河食品,{B},清源省/石门市/长河县,餐饮,,,否\n"
        f"坏码企业,{bad},,,,,\n"
        f",{C},,,,,\n"
        f"电话不对,{C},,,,abc,\n"
        f"重复一行,{B},,,,,\n"
    )
    result = svc.import_enterprises(
        session, actor=None, now=NOW, filename="list.csv", content=b"\xef\xbb\xbf" + text.encode()
    )
    assert (result.created, result.updated) == (1, 1)
    assert [row for row, _ in result.errors] == [4, 5, 6, 7]
    by_code = {e.credit_code: e for e in session.execute(select(Enterprise)).scalars()}
    assert by_code[A].name == "新名称" and by_code[A].no_disturb and by_code[A].industry == "制造业"
    assert by_code[B].region == "清源省/石门市/长河县" and not by_code[B].no_disturb
    assert C not in by_code and bad not in by_code  # no half-saved row


def test_an_import_without_a_column_keeps_what_the_registry_holds_there(session):
    svc.create_enterprise(
        session,
        actor=None,
        now=NOW,
        data={
            "name": "旧名称",
            "credit_code": A,
            "region": "清源省/石门市/长河县",
            "industry": "制造业",
            "no_disturb": "1",
        },
    )
    before = session.execute(select(Enterprise).where(Enterprise.credit_code == A)).scalar_one()
    place = before.jurisdiction_id
    result = svc.import_enterprises(
        session,
        actor=None,
        now=NOW,
        filename="names.csv",
        content=f"企业名称,统一社会信用代码\n新名称,{A}\n".encode(),
    )
    assert result.updated == 1
    after = session.execute(select(Enterprise).where(Enterprise.credit_code == A)).scalar_one()
    assert after.name == "新名称"
    assert (after.region, after.industry, after.no_disturb) == ("清源省/石门市/长河县", "制造业", True)
    assert after.jurisdiction_id == place


def test_gb18030_csv_with_english_headers(session):
    text = f"name,credit_code,region,no_disturb\n邢台企业,{C},清源省,1\n"
    result = svc.import_enterprises(
        session, actor=None, now=NOW, filename="x.CSV", content=text.encode("gb18030")
    )
    assert (result.created, result.errors) == (1, [])
    assert session.execute(select(Enterprise).where(Enterprise.credit_code == C)).scalar_one().no_disturb


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_import(session):
    content = _xlsx(
        [["企业名称", "统一社会信用代码", "无事不扰"], ["表格企业", A, "否"], ["坏", "123", "是"]]
    )
    result = svc.import_enterprises(session, actor=None, now=NOW, filename="list.xlsx", content=content)
    assert result.created == 1 and [r for r, _ in result.errors] == [3]


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("list.pdf", b"%PDF-1.4"),
        ("list.csv", b""),
        ("list.csv", "企业名称,行业\n甲,乙\n".encode()),
        ("list.csv", "企业名称,统一社会信用代码\n".encode()),
        ("list.xlsx", b"not a workbook"),
        ("list.csv", b"PK\x03\x04zip"),
        ("list.csv", b"x" * (svc.MAX_IMPORT_BYTES + 1)),
    ],
)
def test_a_file_that_is_not_a_list_is_refused_whole(session, filename, content):
    with pytest.raises(Invalid):
        svc.import_enterprises(session, actor=None, now=NOW, filename=filename, content=content)


def test_too_many_rows_are_refused(session):
    text = "企业名称,统一社会信用代码\n" + "甲,1\n" * (svc.MAX_IMPORT_ROWS + 1)
    with pytest.raises(Invalid):
        svc.import_enterprises(session, actor=None, now=NOW, filename="big.csv", content=text.encode())


def test_qr_sheet_has_no_credit_code_and_its_codes_decode(app, session, tmp_path):
    made = svc.create_enterprise(
        session,
        actor=None,
        now=NOW,
        data={"name": "华兴机械制造有限公司", "credit_code": A, "region": "清源省/石门市"},
    )
    session.commit()
    try:
        client = app.test_client()
        login(client, "admin")
        response = client.post(
            "/enterprises/action_post", data={"action": "qr_sheet", "rowid": [str(made.id)]}
        )
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        pdf = response.data
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            text = "".join(page.extract_text() or "" for page in doc.pages)
        assert "华兴机械制造有限公司" in text and "执法人员入企检查请扫码登记" in text and "企业自用" in text
        assert A not in text.replace(" ", "")
        (tmp_path / "q.pdf").write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "200",
                "-gray",
                "-png",
                "-singlefile",
                str(tmp_path / "q.pdf"),
                str(tmp_path / "p"),
            ],
            check=True,
            timeout=60,
        )
        texts = {r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "p.png"))}
        assert any(t.endswith(f"/inspect/e/{made.token}") for t in texts)
        assert any(t.endswith(f"/enterprise/{made.confirm_token}") for t in texts)
        assert not any(A in t for t in texts)
    finally:
        session.delete(session.get(Enterprise, made.id))
        session.commit()


def test_admin_screens_answer_in_chinese(app):
    client = app.test_client()
    login(client, "admin")
    for url in ("/enterprises/list/", "/enterprises/add", "/enterprises/import/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "统一社会信用代码" in client.get("/enterprises/list/").get_data(as_text=True)
    for url in ("/inspectionitemview/list/", "/enforcementofficerview/list/", "/enforcementofficerview/add"):
        assert client.get(url).status_code == 200, url


def test_admin_imports_through_the_screen(app, session):
    client = app.test_client()
    login(client, "admin")
    text = f"企业名称,统一社会信用代码\n屏幕导入,{B}\n坏行,123\n"
    try:
        response = client.post(
            "/enterprises/import/",
            data={"file": (io.BytesIO(text.encode()), "list.csv")},
            content_type="multipart/form-data",
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "import-errors" in page
        session.expire_all()
        assert session.execute(select(Enterprise).where(Enterprise.credit_code == B)).scalar_one()
        response = client.post(
            "/enterprises/import/",
            data={"file": (io.BytesIO(b"%PDF"), "x.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200 and "import-refused" in response.get_data(as_text=True)
    finally:
        session.execute(Enterprise.__table__.delete().where(Enterprise.credit_code == B))
        session.commit()


def test_supervisor_reads_but_cannot_add_or_import(app):
    client = app.test_client()
    login(client, "supervisor")
    assert client.get("/enterprises/list/").status_code == 200
    for url in ("/enterprises/add", "/enterprises/import/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
    response = client.post(
        "/enterprises/import/",
        data={"file": (io.BytesIO(f"企业名称,统一社会信用代码\n甲,{C}\n".encode()), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (302, 403)


def test_an_enterprise_is_retired_not_deleted_even_by_the_administrator(app, session):
    """Inspections and warnings keep pointing at an enterprise: "active" retires it, nothing deletes it."""
    firm = svc.create_enterprise(session, actor=None, now=NOW, data={"name": "留档企业", "credit_code": A})
    session.commit()
    client = app.test_client()
    login(client, "admin")
    client.post(f"/enterprises/delete/{firm.id}")
    session.expire_all()
    assert session.get(Enterprise, firm.id) is not None
