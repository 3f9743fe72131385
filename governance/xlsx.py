"""A streamed Excel workbook: one sheet written row by row into a ZIP that is sent as it grows.

openpyxl (even write-only) finishes the whole file before the first byte can leave, so a
100,000-row ledger held the request for its whole length and its memory grew with the rows.
Here the parts of the .xlsx package are written through `zipfile` into a sink that the
response drains after every few rows: constant memory, first byte at once. Only what the
ledgers need: inline strings, numbers, dates (shown as "yyyy-mm-dd hh:mm"), a bold header
row frozen at the top and column widths.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from xml.sax.saxutils import escape

CHUNK = 64 * 1024
EPOCH = dt.datetime(1899, 12, 30)
# Characters XML 1.0 forbids (a control character typed into a description must not break the file).
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLE_BOLD, STYLE_DATE = 1, 2


class _Sink:
    """An unseekable file for zipfile (it then writes data descriptors); `take()` empties it."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts, self.size = b"".join(self.parts), [], 0
        return data


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _cell(ref: str, value, style: int = 0) -> str:
    if value is None or value == "":
        return ""
    s = f' s="{style}"' if style else ""
    if isinstance(value, dt.datetime):
        serial = (value.replace(tzinfo=None) - EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{STYLE_DATE}"><v>{serial:.10f}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{s}><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    text = escape(ILLEGAL.sub("", str(value)))
    return f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{text}</t></is></c>'


def _row(number: int, letters: list[str], values: Iterable, style: int = 0) -> str:
    cells = "".join(_cell(f"{letter}{number}", value, style) for letter, value in zip(letters, values, strict=False))
    return f'<row r="{number}">{cells}</row>'


def _package(sheet_name: str) -> list[tuple[str, str]]:
    sheet = escape(sheet_name[:31], {'"': "&quot;"})
    types = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return [
        (
            "[Content_Types].xml",
            HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{types}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{types}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{types}.styles+xml"/></Types>',
        ),
        (
            "_rels/.rels",
            HEAD + f'<Relationships xmlns="{PACKAGE_REL}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        ),
        (
            "xl/workbook.xml",
            HEAD + f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        ),
        (
            "xl/_rels/workbook.xml.rels",
            HEAD + f'<Relationships xmlns="{PACKAGE_REL}">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/></Relationships>',
        ),
        (
            "xl/styles.xml",
            HEAD + f'<styleSheet xmlns="{MAIN}">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>",
        ),
    ]


def stream_xlsx(*, sheet_name: str, headers: list[str], rows: Iterable[list], widths: list[int]) -> Iterator[bytes]:
    """The bytes of a one-sheet workbook, in pieces of about 64 KB, rows read lazily from `rows`."""
    sink = _Sink()
    letters = [column_letter(index) for index in range(1, len(headers) + 1)]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in _package(sheet_name):
            archive.writestr(name, content)
        yield sink.take()
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            columns = "".join(
                f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>' for i, width in enumerate(widths, 1)
            )
            sheet.write(
                (
                    HEAD + f'<worksheet xmlns="{MAIN}"><sheetViews><sheetView workbookViewId="0">'
                    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView>'
                    f"</sheetViews><cols>{columns}</cols><sheetData>" + _row(1, letters, headers, STYLE_BOLD)
                ).encode()
            )
            for number, values in enumerate(rows, start=2):
                sheet.write(_row(number, letters, values).encode())
                if sink.size >= CHUNK:
                    yield sink.take()
            sheet.write(b"</sheetData></worksheet>")
    yield sink.take()
