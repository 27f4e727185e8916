"""Safe XML parsing shared by every XML source: no DTDs, no entities, a known root element."""

from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml import ElementTree as safe_etree


def parse_root(
    data: bytes | str, *, root_tag: str, error: type[ValueError], source: str
) -> Element:
    """The root element of a document, or `error` naming what is wrong with it.

    defusedxml refuses any DTD, so neither entity expansion ("billion laughs") nor external
    entities can be used against the parser.
    """
    raw = data.encode() if isinstance(data, str) else data
    if raw[:2] == b"\x1f\x8b":
        raise error("input is gzip-compressed; decompress it before parsing")
    if not raw.strip():
        raise error("empty input: the file holds no XML")
    try:
        root: Element = safe_etree.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise error(
            f"refusing XML with a DTD or entity declaration ({exc!r}); {source} files have none"
        ) from exc
    except ParseError as exc:
        raise error(f"input is not well-formed XML: {exc}") from exc
    if root.tag != root_tag:
        raise error(f"root element is <{root.tag}>, expected <{root_tag}>")
    return root
