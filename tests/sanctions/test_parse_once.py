"""A list's bytes are parsed once per process: the guard, the removals' count and staging read
the same snapshot (`registry.parse_parts`), and no reader is given another list's parse."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from test_snapshot_history import BUNDLED

from assets.sanctions import ofac_sdn, registry
from assets.sanctions.model import ParsedList, SnapshotFormatError

OFAC = registry.list_specs()["ofac_sdn"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes each call of the OFAC parser was given, with nothing parsed before."""
    monkeypatch.setattr(registry, "_PARSED", OrderedDict())
    seen: list[bytes] = []
    parse = ofac_sdn.parse

    def counted(parts: dict[str, bytes]) -> ParsedList:
        seen.append(parts["sdn"])
        return parse(parts)

    monkeypatch.setattr(ofac_sdn, "parse", counted)
    return seen


def test_the_same_bytes_are_parsed_once_and_other_bytes_again(calls: list[bytes]) -> None:
    before = (BUNDLED / "sdn_2024-02-20.csv").read_bytes()
    after = (BUNDLED / "sdn_2024-02-23.csv").read_bytes()
    first = registry.parse_parts(OFAC, {"sdn": before})
    assert registry.parse_parts(OFAC, {"sdn": bytes(before)}) is first
    second = registry.parse_parts(OFAC, {"sdn": after})
    assert second is not first and second.entries.height != first.entries.height
    assert calls == [before, after]
    # one more part, however small, is other input
    registry.parse_parts(OFAC, {"sdn": before, "extra": b""})
    assert calls == [before, after, before]


def test_a_parser_replaced_parses_again(
    calls: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (BUNDLED / "sdn_2024-02-20.csv").read_bytes()
    first = registry.parse_parts(OFAC, {"sdn": data})
    replaced: list[bytes] = []

    def replacement(parts: dict[str, bytes]) -> ParsedList:
        replaced.append(parts["sdn"])
        return first

    monkeypatch.setattr(ofac_sdn, "parse", replacement)
    registry.parse_parts(OFAC, {"sdn": data})
    assert calls == [data] and replaced == [data]


def test_a_new_parser_version_parses_again(
    calls: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (BUNDLED / "sdn_2024-02-20.csv").read_bytes()
    registry.parse_parts(OFAC, {"sdn": data})
    monkeypatch.setattr(ofac_sdn, "PARSER_VERSION", "ofac-sdn-csv/next")
    registry.parse_parts(OFAC, {"sdn": data})
    assert calls == [data, data]


def test_a_failed_parse_is_not_kept(calls: list[bytes]) -> None:
    broken = b'1,"NAME",individual\r\n'  # too few columns for the SDN layout
    for _ in range(2):
        with pytest.raises(SnapshotFormatError):
            registry.parse_parts(OFAC, {"sdn": broken})
    assert calls == [broken, broken]


def test_parses_kept_are_bounded_by_size(
    calls: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (BUNDLED / "sdn_2024-02-20.csv").read_bytes()
    after = (BUNDLED / "sdn_2024-02-23.csv").read_bytes()
    one = registry.parse_parts(OFAC, {"sdn": before})
    size = sum(
        frame.estimated_size()
        for frame in (one.entries, one.aliases, one.identifiers, one.addresses)
    )
    # room for one parse: the newer replaces the older
    monkeypatch.setattr(registry, "PARSED_KEPT_BYTES", int(size * 1.5))
    registry.parse_parts(OFAC, {"sdn": after})
    registry.parse_parts(OFAC, {"sdn": after})
    registry.parse_parts(OFAC, {"sdn": before})
    assert calls == [before, after, before]
    # a parse larger than the bound is not kept at all
    monkeypatch.setattr(registry, "PARSED_KEPT_BYTES", size // 2)
    registry._PARSED.clear()
    registry.parse_parts(OFAC, {"sdn": before})
    registry.parse_parts(OFAC, {"sdn": before})
    assert calls == [before, after, before, before, before]
    assert not registry._PARSED
