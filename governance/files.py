"""Every file the platform hands out — a stored upload, a generated PDF, a workbook, an export —
leaves through one of these helpers, so pages and API answer a download with the same headers:

- `Content-Disposition` from Django's `content_disposition_header` (an RFC 5987 `filename*` when
  the name is not plain ASCII, so Chinese file names survive);
- `X-Content-Type-Options: nosniff` (the browser keeps the declared type);
- `Cache-Control: private, no-store` (no shared or disk cache keeps personal data or scores);
- `Content-Security-Policy`: files people uploaded are sandboxed (no script, no form, no plugin,
  images only from this origin) whatever type they claim; documents the platform generates itself
  keep the site's policy (a sandbox would stop the browser's PDF viewer).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
SVG = "image/svg+xml"
CACHE_CONTROL = "private, no-store"
SANDBOX = "default-src 'none'; img-src 'self'; sandbox"


def secure(response, filename: str, *, attachment: bool = True, sandbox: bool = False):
    """Give a download response the platform's headers (the one place they are written)."""
    response["Content-Disposition"] = content_disposition_header(attachment, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = CACHE_CONTROL
    if sandbox:
        response["Content-Security-Policy"] = SANDBOX
    return response


def stored_file_response(
    field_file, *, filename: str | None = None, content_type: str | None = None, attachment: bool = True
) -> FileResponse:
    """A file someone uploaded (a FieldFile), streamed from storage; 404 when it is absent.
    The name defaults to the stored file's own; it is always sandboxed."""
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    name = filename or field_file.name.rsplit("/", 1)[-1]
    response = FileResponse(handle, content_type=content_type, as_attachment=attachment, filename=name)
    return secure(response, name, attachment=attachment, sandbox=True)


def content_response(content: bytes, filename: str, content_type: str, *, attachment: bool = True) -> HttpResponse:
    """A document the platform generated in memory."""
    return secure(HttpResponse(content, content_type=content_type), filename, attachment=attachment)


def pdf_response(content: bytes, filename: str, *, attachment: bool = False) -> HttpResponse:
    """A generated PDF (notice, report, agreement, case file), shown in the browser by default."""
    return content_response(content, filename, PDF, attachment=attachment)


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """A generated workbook, always as a download."""
    return content_response(content, filename, XLSX)


def streaming_response(chunks: Iterable, filename: str, content_type: str) -> StreamingHttpResponse:
    """A generated export streamed as it is produced (ledgers, region subtrees), as a download."""
    return secure(StreamingHttpResponse(chunks, content_type=content_type), filename)
