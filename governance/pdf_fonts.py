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


def paragraph_styles(body_size: float = 11) -> dict:
    """The platform's paragraph styles in the CJK font, scaled from the body text's size, so
    every notice, report and case file reads alike."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm

    body = ParagraphStyle(
        "body", fontName=cjk_font(), fontSize=body_size, leading=round(body_size * 1.62), wordWrap="CJK"
    )
    cell_size = body_size - 1.5
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontSize=body_size + 9, leading=28, alignment=TA_CENTER, spaceAfter=4 * mm
        ),
        "number": ParagraphStyle("number", parent=body, alignment=TA_RIGHT, spaceAfter=4 * mm),
        "h2": ParagraphStyle(
            "h2", parent=body, fontSize=body_size + 2, leading=20, spaceBefore=4 * mm, spaceAfter=2 * mm
        ),
        "body": body,
        "indent": ParagraphStyle("indent", parent=body, firstLineIndent=round(body_size * 2)),
        "cell": ParagraphStyle("cell", parent=body, fontSize=cell_size, leading=round(cell_size * 1.45)),
        "small": ParagraphStyle("small", parent=body, fontSize=9, leading=13, textColor=colors.HexColor("#555555")),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
    }
