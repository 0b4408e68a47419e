"""Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2): the shapes of its answers in JSON and
XML, its dates and its error bodies (pure). The mapping to cases is app/services/open311.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from app.clock import LOCAL_TZ, to_local

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_REQUESTS = 1000  # at most this many requests in one answer (the spec's suggestion)
DEFAULT_SPAN = timedelta(days=90)  # requests.{fmt} without dates: the last 90 days, and never more
# The element of each item of a list, by the list's element (the spec's XML shapes).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all (not even escaped): a stored text with one would make
# the whole answer ill-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Open311Error(Exception):
    """A refusal answered as the spec's error body with its HTTP status."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def iso(moment: datetime | None) -> str | None:
    """A stored naive UTC datetime as ISO 8601 in Beijing time (``2026-12-03T14:00:00+08:00``)."""
    local = to_local(moment)
    return local.isoformat(timespec="seconds") if local else None


def parse_datetime(text: str) -> datetime:
    """A W3C datetime (``2026-12-01T00:00:00Z``, an offset, or a bare date or time taken as
    Beijing time) as a naive UTC datetime; ValueError if it is none."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC).replace(tzinfo=None)


def split_list(raw: str | None) -> list[str]:
    """A comma-delimited parameter as its non-empty parts."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def errors(status: int, description: str) -> list[dict]:
    """The spec's error body."""
    return [{"code": status, "description": description}]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        tag = ITEM_TAGS[element.tag]
        for child in value:
            _fill(ET.SubElement(element, tag), child)
    elif value is not None:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    """``value`` (a list of items or a dict) as the spec's XML under ``<root>``; None is an empty
    element, True/False are ``true``/``false``; every text is escaped by ElementTree."""
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def to_json(value) -> bytes:
    """``value`` as JSON, keys in the spec's order, Chinese as it is."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def render(fmt: str, root: str, value) -> bytes:
    return to_xml(root, value) if fmt == "xml" else to_json(value)
