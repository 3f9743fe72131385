"""Open311 output: one payload rendered as JSON or XML, chosen by the URL suffix.

GeoReport v2 "Format Support": the client appends `.json` or `.xml` to the resource. JSON
lists are bare arrays; XML wraps them in a root element (`services`, `service_requests`,
`errors` …) with one child per item, and nested lists name their items in the singular
(`endpoints/endpoint`, `attributes/attribute`, `values/value`, `formats/format`).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

JSON = "json"
XML = "xml"
CONTENT_TYPES = {JSON: "application/json; charset=utf-8", XML: "text/xml; charset=utf-8"}
MEDIA_TYPES = ["text/xml", "application/json"]  # as announced by discovery

LIST_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
# Characters XML 1.0 cannot carry at all; free text typed into a hotline system may contain them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    """An error answered as GeoReport v2 prescribes: [{"code": 400, "description": "…"}]."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code
        self.description = str(description)


def render(payload: Any, fmt: str, *, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    """The payload as the requested format; `item` names the XML element of each list entry."""
    if fmt == XML:
        body = to_xml(payload, root=root, item=item)
    else:
        body = json.dumps(payload, ensure_ascii=False, cls=DjangoJSONEncoder)
    return HttpResponse(body, content_type=CONTENT_TYPES.get(fmt, CONTENT_TYPES[JSON]), status=status)


def error_response(error: Open311Error, fmt: str) -> HttpResponse:
    payload = [{"code": error.code, "description": error.description}]
    return render(payload, fmt, root="errors", item="error", status=error.code)


def to_xml(payload: Any, *, root: str, item: str | None = None) -> str:
    element = ET.Element(root)
    if isinstance(payload, list):
        for entry in payload:
            _append(element, item or "item", entry)
    else:
        _fill(element, payload)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode")


def _append(parent: ET.Element, name: str, value: Any) -> None:
    _fill(ET.SubElement(parent, name), value, name)


def _fill(element: ET.Element, value: Any, name: str = "") -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, list):
        for child in value:
            _append(element, LIST_ITEMS.get(name, "item"), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _XML_ILLEGAL.sub("", str(value))
