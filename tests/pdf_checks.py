"""Reading generated PDFs back with pypdf: their text, and whether their fonts are embedded."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def font_report(content: bytes) -> dict[str, bool]:
    """Every font the pages use, by its PDF name, and whether its glyphs are embedded in the file
    (a FontFile/FontFile2/FontFile3 stream in its descriptor, or its descendant's)."""
    fonts: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        resources = page.get("/Resources") or {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            descriptors = [font.get("/FontDescriptor")]
            descriptors += [d.get_object().get("/FontDescriptor") for d in font.get("/DescendantFonts") or []]
            embedded = any(
                key in d.get_object()
                for d in descriptors
                if d is not None
                for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


def cjk_font_is_embedded_subset(content: bytes) -> bool:
    """The platform's CJK font is in the file as a subset (ReportLab names subsets `AAAAAA+…`)."""
    fonts = font_report(content)
    cjk = {name: embedded for name, embedded in fonts.items() if "WenQuanYi" in name or "CJK" in name}
    return bool(cjk) and all(cjk.values()) and all("+" in name for name in cjk)
