"""The one CJK font every PDF of the platform embeds (notices, reports, agreements, case files).

ReportLab embeds only TrueType-outline fonts, and only the glyphs a document uses (a subset), so
a PDF shows its Chinese on any viewer, offline, without the reader having a Chinese font. Debian's
`fonts-wqy-zenhei` (文泉驿正黑, GPL with the font exception) is installed by
`scripts/ensure_chromium.sh` and the Dockerfile; setting `PDF_CJK_FONT` points at another TrueType
(.ttf/.ttc) file. The CFF-based Noto CJK fonts cannot be embedded by ReportLab.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FONT_NAME = "PlatformCJK"
_registered: list[str] = []


def cjk_font() -> str:
    """Register the font once per process and return its ReportLab name."""
    if _registered:
        return _registered[0]
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = Path(settings.PDF_CJK_FONT)
    if not path.is_file():
        raise ImproperlyConfigured(
            f"The CJK font for PDFs is missing at {path}: install Debian's fonts-wqy-zenhei "
            "(scripts/ensure_chromium.sh) or set PDF_CJK_FONT to a TrueType font file."
        )
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    _registered.append(FONT_NAME)
    return FONT_NAME


def pdf_response(content: bytes, filename: str, *, attachment: bool = False):
    """A generated PDF as a private, uncached response."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(attachment, filename)
    response["Cache-Control"] = "private, no-store"
    return response
