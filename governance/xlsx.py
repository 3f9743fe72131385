"""The platform's one workbook builder: sheets written row by row into a ZIP that is sent as it grows.

openpyxl (even write-only) finishes the whole file before the first byte can leave, so a
100,000-row ledger held the request for its whole length and its memory grew with the rows.
Here the parts of the .xlsx package are written through `zipfile` into a sink that the
response drains after every few rows: constant memory, first byte at once. Only what the
exports need (ledgers, rankings, a unit's breakdown, the dashboard): inline strings, numbers,
dates (shown as "yyyy-mm-dd hh:mm"), a bold header row frozen at the top of each sheet and
column widths. `safe_text` is the one guard against spreadsheet formula injection, for the
workbooks and the CSV ledger alike.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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


# What a spreadsheet would take for the start of a formula (or of a field, for tab and CR).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value) -> str:
    """Text that a spreadsheet shows and never evaluates: a leading formula character is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass
class Sheet:
    """One sheet: its name (cut to Excel's 31 characters), bold frozen headers, column widths,
    and its rows (read lazily, once)."""

    name: str
    headers: list
    rows: Iterable[list]
    widths: list[int]


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


def _attribute(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _package(sheet_names: list[str]) -> list[tuple[str, str]]:
    types = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    numbers = range(1, len(sheet_names) + 1)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{types}.worksheet+xml"/>' for n in numbers
    )
    sheets = "".join(
        f'<sheet name="{_attribute(name[:31])}" sheetId="{n}" r:id="rId{n}"/>'
        for n, name in zip(numbers, sheet_names, strict=True)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{REL}/worksheet" Target="worksheets/sheet{n}.xml"/>' for n in numbers
    )
    styles_id = len(sheet_names) + 1
    return [
        (
            "[Content_Types].xml",
            HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{types}.sheet.main+xml"/>'
            f'{overrides}<Override PartName="/xl/styles.xml" ContentType="{types}.styles+xml"/></Types>',
        ),
        (
            "_rels/.rels",
            HEAD + f'<Relationships xmlns="{PACKAGE_REL}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        ),
        (
            "xl/workbook.xml",
            HEAD + f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{sheets}</sheets></workbook>',
        ),
        (
            "xl/_rels/workbook.xml.rels",
            HEAD + f'<Relationships xmlns="{PACKAGE_REL}">{sheet_rels}'
            f'<Relationship Id="rId{styles_id}" Type="{REL}/styles" Target="styles.xml"/></Relationships>',
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


def stream_workbook(sheets: list[Sheet]) -> Iterator[bytes]:
    """The bytes of a workbook, in pieces of about 64 KB, each sheet's rows read lazily."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in _package([sheet.name for sheet in sheets]):
            archive.writestr(name, content)
        yield sink.take()
        for number, sheet in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as part:
                yield from _write_sheet(part, sheet, sink)
    yield sink.take()


def _write_sheet(part, sheet: Sheet, sink: _Sink) -> Iterator[bytes]:
    letters = [column_letter(index) for index in range(1, len(sheet.headers) + 1)]
    columns = "".join(
        f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>' for i, width in enumerate(sheet.widths, 1)
    )
    part.write(
        (
            HEAD + f'<worksheet xmlns="{MAIN}"><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView>'
            f"</sheetViews><cols>{columns}</cols><sheetData>" + _row(1, letters, sheet.headers, STYLE_BOLD)
        ).encode()
    )
    for number, values in enumerate(sheet.rows, start=2):
        part.write(_row(number, letters, values).encode())
        if sink.size >= CHUNK:
            yield sink.take()
    part.write(b"</sheetData></worksheet>")


def stream_xlsx(*, sheet_name: str, headers: list[str], rows: Iterable[list], widths: list[int]) -> Iterator[bytes]:
    """A one-sheet workbook, streamed (the ledgers)."""
    return stream_workbook([Sheet(sheet_name, headers, rows, widths)])


def workbook_bytes(sheets: list[Sheet]) -> bytes:
    """A workbook held whole (rankings, a unit's breakdown, the dashboard: a few hundred rows)."""
    return b"".join(stream_workbook(sheets))
