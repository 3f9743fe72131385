"""Every download — a stored upload, a generated PDF, a workbook, an export, on a page or through
the API — leaves through governance.files and answers with the same headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disputes.models import MediationSession
from governance.files import CACHE_CONTROL, SANDBOX
from grids.events.services.events import event_attach

from .test_case_pages import agreed_case

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
PDF_BYTES = b"%PDF-1.4 test"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored(name: str = "现场记录.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def assert_download_headers(response, *, uploaded: bool, filename: str | None = None) -> None:
    assert response.status_code == 200, response.status_code
    disposition = response["Content-Disposition"]
    assert disposition.split(";")[0] in ("attachment", "inline")
    if filename is not None and not filename.isascii():
        assert "filename*=utf-8''" in disposition  # RFC 5987: the Chinese name survives
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == CACHE_CONTROL
    if uploaded:
        assert response["Content-Security-Policy"] == SANDBOX


def test_an_event_attachment_has_the_same_headers_on_the_page_and_in_the_api(client, api, world, file_event, media):
    event = file_event()
    attachment = event_attach(event=event, upload=stored(), user=world.worker_a)
    client.force_login(world.user_a)
    api.force_authenticate(world.user_a)
    page = client.get(f"/events/{event.pk}/attachments/{attachment.pk}/")
    through_api = api.get(f"/api/v1/events/{event.pk}/attachments/{attachment.pk}/download/")
    for response in (page, through_api):
        assert_download_headers(response, uploaded=True, filename="现场记录.pdf")
        assert b"".join(response.streaming_content) == PDF_BYTES
    assert page["Content-Disposition"] == through_api["Content-Disposition"]


def test_a_session_file_has_the_same_headers_on_the_page_and_in_the_api(client, api, world, mediation, media):
    case = agreed_case(world, mediation)
    session = MediationSession.objects.filter(case=case).first()
    session.file = stored("调解记录.pdf")
    session.save(update_fields=["file"])
    client.force_login(mediation["mediator"])
    api.force_authenticate(mediation["mediator"])
    page = client.get(f"/cases/{case.pk}/sessions/{session.pk}/file/")
    through_api = api.get(f"/api/v1/disputes/cases/{case.pk}/sessions/{session.pk}/file/")
    for response in (page, through_api):
        assert_download_headers(response, uploaded=True, filename="调解记录.pdf")
    assert page["Content-Disposition"] == through_api["Content-Disposition"]


def test_generated_documents_and_exports_have_the_same_headers(client, api, world, mediation, file_event):
    case = agreed_case(world, mediation)
    file_event()
    client.force_login(mediation["mediator"])
    assert_download_headers(client.get(f"/cases/{case.pk}/agreement.pdf"), uploaded=False, filename="协议书.pdf")
    client.force_login(world.user_a)
    for url in ("/events/export.csv", "/events/export.xlsx", f"/regions/{world.county_a.code}/export.csv"):
        assert_download_headers(client.get(url), uploaded=False)
    api.force_authenticate(world.user_a)
    assert_download_headers(api.get(f"/api/v1/regions/{world.county_a.code}/export/?type=geojson"), uploaded=False)


# Where a response may still set download headers itself: the OpenAPI schema (a document served
# inline, not a file) and the interchange's import reports (governance/interchange/, moving to
# governance.files with the interchange's own rework).
OWN_HEADERS_ALLOWED = {"governance/files.py", "governance/api/views.py"}
OWN_HEADERS = re.compile(r"FileResponse\(|[\"']Content-Disposition[\"']|content_disposition_header")


def test_no_view_writes_download_headers_itself():
    offenders = []
    for app in ("governance", "grids", "disputes", "assessment", "dashboard"):
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in OWN_HEADERS_ALLOWED or relative.startswith("governance/interchange/"):
                continue
            if OWN_HEADERS.search(path.read_text(encoding="utf-8")):
                offenders.append(relative)
    assert offenders == [], f"serve files through governance.files, not by hand: {offenders}"


def test_a_missing_stored_file_is_a_404(client, world, file_event, media):
    event = file_event()
    attachment = event_attach(event=event, upload=stored(), user=world.worker_a)
    (media / attachment.file.name).unlink()
    client.force_login(world.user_a)
    assert client.get(f"/events/{event.pk}/attachments/{attachment.pk}/").status_code == 404
    assert client.get(f"/events/{event.pk}/").status_code == 200


def test_the_one_workbook_builder_writes_several_sheets_and_quotes_formulas():
    import io
    from decimal import Decimal

    from openpyxl import load_workbook

    from governance.xlsx import Sheet, safe_text, workbook_bytes

    content = workbook_bytes(
        [
            Sheet("排名", ["单位", "得分"], [[safe_text("=HYPERLINK(1)"), Decimal("88.50")], ["乙县", None]], [20, 9]),
            Sheet('不合格"单位"' * 5, ["说明"], iter([["-1"], ["@x"]]), [40]),
        ]
    )
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["排名", ('不合格"单位"' * 5)[:31]]
    assert list(workbook["排名"].iter_rows(values_only=True)) == [
        ("单位", "得分"),
        ("'=HYPERLINK(1)", 88.5),
        ("乙县", None),
    ]
    assert workbook["排名"].freeze_panes == "A2" and workbook["排名"]["A1"].font.b
    assert [r[0] for r in workbook.worksheets[1].iter_rows(values_only=True)] == ["说明", "-1", "@x"]
    assert safe_text("-1") == "'-1" and safe_text("+86") == "'+86" and safe_text("甲") == "甲"


def test_no_export_builds_a_workbook_or_escapes_formulas_by_itself():
    own_builder = re.compile(r"openpyxl|Workbook\(|startswith\(\(\"=\"|in \(\"=\", \"\+\"")
    offenders = [
        path.relative_to(ROOT).as_posix()
        for app in ("governance", "grids", "disputes", "assessment", "dashboard")
        for path in (ROOT / app).rglob("*.py")
        if path.relative_to(ROOT).as_posix() != "governance/xlsx.py"
        and own_builder.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"build workbooks with governance.xlsx: {offenders}"
