"""Tests for the trade-statistics format parsers: hand-made extracts first, then the real files."""

from __future__ import annotations

import codecs
import csv
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from assets.trade_statistics.formats import (
    FORMATS,
    TradeFormatError,
    comtrade,
    eurostat_comext,
    parser_for,
    taiwan_customs,
)
from assets.trade_statistics.formats._common import COLUMNS, SCHEMA, country_iso2

CENT = Decimal("0.01")

# --- Comtrade ------------------------------------------------------------------------------

COMTRADE_HEADER = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,"
    "flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,"
    "classificationCode,classificationSearchCode,isOriginalClassification,cmdCode,cmdDesc,"
    "aggrLevel,isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,qtyUnitAbbr,"
    "qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,"
    "isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,"
    "legacyEstimationFlag,isReported,isAggregate"
)


def comtrade_row(**fields: str) -> str:
    """One Comtrade record (fictional numbers), quoted like the API, with its trailing comma."""
    values = {
        "typeCode": "C", "freqCode": "A", "refPeriodId": "20240101", "refYear": "2024",
        "refMonth": "52", "period": "2024", "reporterCode": "792", "reporterISO": "TUR",
        "reporterDesc": "Türkiye", "flowCode": "X", "flowDesc": "Export", "partnerCode": "0",
        "partnerISO": "W00", "partnerDesc": "World", "partner2Code": "0", "partner2ISO": "W00",
        "partner2Desc": "World", "classificationCode": "H6", "classificationSearchCode": "HS",
        "isOriginalClassification": "true", "cmdCode": "8542",
        "cmdDesc": "Electronic integrated circuits", "aggrLevel": "4", "isLeaf": "false",
        "customsCode": "C00", "customsDesc": "TOTAL CPC", "mosCode": "0", "motCode": "0",
        "motDesc": "TOTAL MOT", "qtyUnitCode": "-1", "qtyUnitAbbr": "N/A", "qty": "",
        "isQtyEstimated": "false", "altQtyUnitCode": "-1", "altQtyUnitAbbr": "N/A", "altQty": "",
        "isAltQtyEstimated": "false", "netWgt": "1500.5", "isNetWgtEstimated": "false",
        "grossWgt": "", "isGrossWgtEstimated": "false", "cifvalue": "", "fobvalue": "1000.25",
        "primaryValue": "1000.25", "legacyEstimationFlag": "0", "isReported": "true",
        "isAggregate": "false",
    }  # fmt: skip
    values.update(fields)
    assert list(values) == COMTRADE_HEADER.split(",")
    return ",".join(f'"{v}"' if v else "" for v in values.values()) + ","


def comtrade_file(*rows: str, encoding: str = "cp1252") -> bytes:
    return ("\r\n".join([COMTRADE_HEADER, *rows]) + "\r\n").encode(encoding)


COMTRADE_SMALL = comtrade_file(
    comtrade_row(),  # Türkiye, written as cp1252 byte 0xFC
    comtrade_row(
        reporterCode="490",
        reporterISO="S19",
        reporterDesc="Other Asia, nes",
        classificationCode="H5",
        period="2023",
        refYear="2023",
        primaryValue="123456789.5",
        netWgt="",
    ),
    comtrade_row(
        freqCode="M",
        period="202508",
        refMonth="8",
        reporterCode="251",
        reporterISO="FRA",
        reporterDesc="France",
        partnerCode="643",
        partnerISO="RUS",
        partnerDesc="Russian Federation",
        cmdCode="854231",
        primaryValue="77",
    ),
)


def test_comtrade_fixture_is_cp1252() -> None:
    assert b"T\xfcrkiye" in COMTRADE_SMALL
    with pytest.raises(UnicodeDecodeError):
        COMTRADE_SMALL.decode("utf-8")


def test_comtrade_parses_cp1252_and_taiwan_as_490() -> None:
    frame = comtrade.parse(COMTRADE_SMALL)
    assert frame.columns == list(COLUMNS)
    assert frame.schema == SCHEMA
    turkey, taiwan, france = frame.to_dicts()
    assert (turkey["reporter_country"], turkey["reporter_label"]) == ("TR", "Türkiye")
    assert (taiwan["reporter_country"], taiwan["reporter_label"]) == ("TW", "Other Asia, nes")
    assert not taiwan["reporter_is_aggregate"]
    assert (turkey["partner_country"], turkey["partner_is_aggregate"]) == ("WORLD", True)
    assert turkey["partner_label"] == "World"
    assert (france["reporter_country"], france["partner_country"]) == ("FR", "RU")
    assert not france["partner_is_aggregate"]
    assert turkey["flow"] == "X"
    assert (turkey["period_start"], turkey["period_end"]) == (date(2024, 1, 1), date(2024, 12, 31))
    assert turkey["period_granularity"] == "year"
    assert (france["period_start"], france["period_end"]) == (date(2025, 8, 1), date(2025, 8, 31))
    assert france["period_granularity"] == "month"
    assert [r["hs_edition"] for r in (turkey, taiwan, france)] == ["H6", "H5", "H6"]
    assert (turkey["product_code"], turkey["hs6"]) == ("8542", None)
    assert (france["product_code"], france["hs6"]) == ("854231", "854231")
    assert turkey["value_usd"] == 1000.25
    assert taiwan["value_usd"] == 123456789.5
    assert turkey["value_eur"] is None
    assert (turkey["net_weight_kg"], taiwan["net_weight_kg"]) == (1500.5, None)
    assert frame["source_row_number"].to_list() == [1, 2, 3]


def test_comtrade_utf8_file_reads_the_same() -> None:
    utf8 = COMTRADE_SMALL.decode("cp1252").encode("utf-8")
    assert comtrade.parse(utf8).equals(comtrade.parse(COMTRADE_SMALL))
    assert comtrade.parse(codecs.BOM_UTF8 + utf8).equals(comtrade.parse(COMTRADE_SMALL))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no header"),
        (b"reporter,partner,value\r\nA,B,1\r\n", "missing column"),
        (COMTRADE_SMALL.replace(b"T\xfcrkiye", b"T\x81rkiye"), "byte 0x81"),
        (comtrade_file(comtrade_row(flowCode="DX")), "flowCode 'DX'"),
        (comtrade_file(comtrade_row(motCode="2100")), "breakdown"),
        (comtrade_file(comtrade_row(period="202413", freqCode="M")), "period '202413'"),
        (comtrade_file(comtrade_row(primaryValue="12 USD")), "not a number"),
        (comtrade_file(comtrade_row() + '"extra",'), "fields"),
        ("\ufeff".encode("utf-16-le") + COMTRADE_HEADER.encode("utf-16-le"), "UTF-16"),
    ],
)
def test_comtrade_rejects_other_layouts_with_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(TradeFormatError, match=message):
        comtrade.parse(data)


def test_trade_format_error_is_a_value_error() -> None:
    assert issubclass(TradeFormatError, ValueError)


def test_modules_expose_format_and_parser_version() -> None:
    modules = (comtrade, taiwan_customs, eurostat_comext)
    assert {m.FORMAT: m.PARSER_VERSION for m in modules} == {
        "comtrade": "comtrade/1",
        "taiwan_customs": "taiwan_customs/1",
        "eurostat_comext": "eurostat_comext/1",
    }
    for module in modules:
        assert parser_for(module.FORMAT) is module.parse
    assert set(FORMATS) == {"comtrade", "taiwan_customs", "eurostat_comext"}
    with pytest.raises(KeyError):
        parser_for("nope")


def test_header_only_file_gives_an_empty_typed_frame() -> None:
    frame = comtrade.parse(comtrade_file())
    assert frame.height == 0
    assert frame.schema == SCHEMA


# --- Taiwan Customs ------------------------------------------------------------------------

TAIWAN_PORTAL = (
    "進出口別,日期,貨品號列,中文貨名,英文貨名,美元(千元)\n"
    "出口總值(含復出口),102年,85423100002,處理器及控制器, Processors and controllers,1234.56789\n"
    "出口總值(含復出口),114年1月~114年7月(初步值),85423100002,處理器及控制器,"
    " Processors and controllers,2000\n"
    '出口總值(含復出口),113年,85429010008,積體電路用導線架," Lead frames, for ICs",0.5\n'
)

TAIWAN_BY_COUNTRY = (
    "\ufeffYear,Country,HS Code,Description,Export Value (USD)\n"
    "2021,俄羅斯,85423100002, Processors and controllers,1500000.0\n"
    "2021,其他國家,85423900228, Other hybrid integrated circuits,10323.880000000001\n"
    "2024,中國大陸,85423200234, DRAM,42.5\n"
)


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_taiwan_portal_roc_years_preliminary_period_and_thousand_usd(bom: bytes) -> None:
    frame = taiwan_customs.parse(bom + TAIWAN_PORTAL.encode("utf-8"))
    assert frame.schema == SCHEMA
    year, preliminary, lead_frames = frame.to_dicts()
    assert (year["period_start"], year["period_end"]) == (date(2013, 1, 1), date(2013, 12, 31))
    assert year["period_granularity"] == "year"
    assert preliminary["period_start"] == date(2025, 1, 1)
    assert preliminary["period_end"] == date(2025, 7, 31)
    assert preliminary["period_granularity"] == "partial_year"
    assert year["value_usd"] == 1234567.89  # 1,234.56789 thousand USD
    assert preliminary["value_usd"] == 2_000_000.0
    assert lead_frames["value_usd"] == 500.0
    assert (year["product_code"], year["hs6"]) == ("85423100002", "854231")
    assert lead_frames["hs6"] == "854290"
    assert year["hs_edition"] is None
    assert (year["reporter_country"], year["reporter_is_aggregate"]) == ("TW", False)
    assert (year["partner_country"], year["partner_is_aggregate"]) == ("WORLD", True)
    assert year["flow"] == "X"
    assert frame["source_row_number"].to_list() == [1, 2, 3]


def test_taiwan_portal_big5_download_reads_the_same() -> None:
    utf8 = taiwan_customs.parse(TAIWAN_PORTAL.encode("utf-8"))
    assert taiwan_customs.parse(TAIWAN_PORTAL.encode("cp950")).equals(utf8)


def test_taiwan_portal_with_a_destination_column() -> None:
    data = (
        "進出口別,日期,國家,貨品號列,美元(千元)\n"
        "出口總值(含復出口),110年,俄羅斯,85423100002,21.5\n"
        "出口總值(含復出口),110年,火星,85423100002,1\n"
    ).encode()
    russia, unknown = taiwan_customs.parse(data).to_dicts()
    assert (russia["partner_country"], russia["partner_label"]) == ("RU", "俄羅斯")
    assert not russia["partner_is_aggregate"]
    assert russia["value_usd"] == 21500.0
    assert (unknown["partner_country"], unknown["partner_label"]) == (None, "火星")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("102年", (date(2013, 1, 1), date(2013, 12, 31), "year")),
        ("113年7月", (date(2024, 7, 1), date(2024, 7, 31), "month")),
        ("113年2月", (date(2024, 2, 1), date(2024, 2, 29), "month")),
        ("113年1月~113年12月", (date(2024, 1, 1), date(2024, 12, 31), "year")),
        ("114年1月~114年7月(初步值)", (date(2025, 1, 1), date(2025, 7, 31), "partial_year")),
        (
            "１１４年１月～１１４年７月（初步值）",
            (date(2025, 1, 1), date(2025, 7, 31), "partial_year"),
        ),
    ],
)
def test_roc_periods(label: str, expected: tuple[date, date, str]) -> None:
    period = taiwan_customs.roc_period(label)
    assert (period.start, period.end, period.granularity) == expected


@pytest.mark.parametrize("label", ["2024", "113年7月~114年6月", "113年13月", "113年7月~113年3月"])
def test_roc_periods_that_are_not_one_year_are_rejected(label: str) -> None:
    with pytest.raises(ValueError):
        taiwan_customs.roc_period(label)


def test_taiwan_by_country_layout_maps_chinese_names() -> None:
    frame = taiwan_customs.parse(TAIWAN_BY_COUNTRY.encode("utf-8"))
    russia, others, china = frame.to_dicts()
    assert (russia["partner_country"], russia["partner_label"]) == ("RU", "俄羅斯")
    assert russia["value_usd"] == 1_500_000.0  # already US dollars: not scaled
    assert (russia["period_start"], russia["period_granularity"]) == (date(2021, 1, 1), "year")
    # The residual "other countries" is kept, with its label and no country code.
    assert (others["partner_country"], others["partner_label"]) == (None, "其他國家")
    assert not others["partner_is_aggregate"]
    assert others["value_usd"] == 10323.880000000001
    assert china["partner_country"] == "CN"
    assert china["hs6"] == "854232"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("Year,Country,Value\n2021,俄羅斯,1\n".encode(), "neither the portal layout"),
        (TAIWAN_PORTAL.replace("出口總值(含復出口),102年", "國貨出口,102年").encode(), "國貨出口"),
        (TAIWAN_PORTAL.replace("102年", "民國102").encode(), "ROC-calendar"),
        (TAIWAN_PORTAL.encode("utf-16-le"), "not utf-8 or cp950"),
    ],
)
def test_taiwan_rejects_other_layouts_with_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(TradeFormatError, match=message):
        taiwan_customs.parse(data)


# --- Eurostat Comext -----------------------------------------------------------------------

EU27_LABEL = (
    "European Union - 27 countries (AT, BE, BG, CY, CZ, DE, DK, EE, ES, FI, FR, GR, HR, HU, IE, "
    "IT, LT, LU, LV, MT, NL, PL, PT, RO, SE, SI, SK)"
)
EURO_AREA_LABEL = (
    "Euro area (AT-01/1999, BE-01/1999, CY-01/2008, DE-01/1999, EE-01/2011, ES-01/1999, "
    "FI-01/1999, FR-01/1999, GR-01/2001, HR-01/2023, IE-01/1999, IT-01/1999, LT-01/2015)"
)
EUROSTAT_LABELS = (
    "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\r\n"
    '"Germany (incl. German Democratic Republic \'DD\' from 1991)","Russian Federation (Russia)",'
    '"Total","EXPORT","Total","Aug. 2024",1000\r\n'
    f'"{EU27_LABEL}","Russian Federation (Russia)","Total","EXPORT","Total","Aug. 2024",5000\r\n'
    f'"{EURO_AREA_LABEL}","Russian Federation (Russia)","Total","EXPORT","Total","May. 2019",7\r\n'
    '"France (incl. Saint Barthélemy \'BL\' -> 2012)","Russian Federation (Russia)",'
    '"Total","EXPORT","Total","Dec. 2019",:\r\n'
).encode()
EUROSTAT_CODE_LABELS = (
    "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\r\n"
    '"Cyprus","Kazakhstan","TOTAL-Total","2-EXPORT","T-Total","202408-Aug. 2024",11\r\n'
    f'"{EU27_LABEL}","Kazakhstan","TOTAL-Total","2-EXPORT","T-Total","201901-Jan. 2019",22\r\n'
    '"Greece","Kazakhstan","85423100-Processors and controllers","2-EXPORT","T-Total",'
    '"202402-Feb. 2024",33\r\n'
).encode()


def test_eurostat_label_variant_keeps_aggregates_marked() -> None:
    frame = eurostat_comext.parse(EUROSTAT_LABELS)
    assert frame.schema == SCHEMA
    germany, eu27, euro_area, france = frame.to_dicts()
    assert (germany["reporter_country"], germany["reporter_is_aggregate"]) == ("DE", False)
    assert germany["reporter_label"].startswith("Germany (incl.")
    assert (eu27["reporter_country"], eu27["reporter_is_aggregate"]) == ("EU27", True)
    assert eu27["reporter_label"] == EU27_LABEL
    assert (euro_area["reporter_country"], euro_area["reporter_is_aggregate"]) == ("EA", True)
    assert (france["reporter_country"], france["reporter_label"][:6]) == ("FR", "France")
    assert (germany["partner_country"], germany["partner_is_aggregate"]) == ("RU", False)
    assert germany["partner_label"] == "Russian Federation (Russia)"
    assert germany["flow"] == "X"
    assert (germany["period_start"], germany["period_end"]) == (date(2024, 8, 1), date(2024, 8, 31))
    assert germany["period_granularity"] == "month"
    assert euro_area["period_start"] == date(2019, 5, 1)  # "May." is written with a dot
    assert (germany["product_code"], germany["hs6"]) == ("TOTAL", None)
    # Euros stay euros: no exchange rate is invented.
    assert (germany["value_eur"], germany["value_usd"]) == (1000.0, None)
    assert france["value_eur"] is None  # ":" is "not available"
    assert germany["net_weight_kg"] is None


def test_eurostat_code_label_variant() -> None:
    cyprus, eu27, greece = eurostat_comext.parse(EUROSTAT_CODE_LABELS).to_dicts()
    assert (cyprus["period_start"], cyprus["period_end"]) == (date(2024, 8, 1), date(2024, 8, 31))
    assert eu27["period_start"] == date(2019, 1, 1)
    assert (cyprus["product_code"], cyprus["flow"]) == ("TOTAL", "X")
    assert (cyprus["reporter_country"], cyprus["partner_country"]) == ("CY", "KZ")
    assert (eu27["reporter_country"], eu27["reporter_is_aggregate"]) == ("EU27", True)
    assert (greece["reporter_country"], greece["product_code"], greece["hs6"]) == (
        "GR",
        "85423100",
        "854231",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("EU27_2020-European Union - 27 countries (AT, BE, ...)", ("EU27", True)),
        ("EA20-Euro area - 20 countries (AT, BE, CY)", ("EA20", True)),
        ("European Union (AT-01/1995, GB-01/1973->01/2020)", ("EU", True)),
        ("Euro area - 20 countries (AT, BE, CY, DE)", ("EA20", True)),
        ("Extra-EU27 (from 2020)", ("EXTRA_EU27", True)),
        ("EL-Greece", ("GR", False)),
        ("UK-United Kingdom", ("GB", False)),
        ("Ireland (Eire)", ("IE", False)),
        ("Belgium (incl. Luxembourg 'LU' -> 1998)", ("BE", False)),
        ("Kosovo (as defined by UNSCR 1244/99)", ("XK", False)),
        ("Türkiye", ("TR", False)),
        ("Atlantis", (None, False)),
    ],
)
def test_eurostat_areas(value: str, expected: tuple[str | None, bool]) -> None:
    assert eurostat_comext.area(value) == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("202408-Aug. 2024", "202407-Aug. 2024"), "code and label disagree"),
        (("202408-Aug. 2024", "202408-Augtober 2024"), "code and label disagree"),
        (("202408-Aug. 2024", "Augtober 2024"), "not a month or a year"),
        (("T-Total", "1-Normal"), "STAT_PROCEDURE"),
        (("2-EXPORT", "3-TRANSIT"), "FLOW"),
        (("TOTAL-Total", "Electronic integrated circuits"), "label without a code"),
        (("VALUE_IN_EUR", "VALUE_IN_USD"), "missing column"),
    ],
)
def test_eurostat_rejects_what_it_cannot_normalize(change: tuple[str, str], message: str) -> None:
    data = EUROSTAT_CODE_LABELS.decode().replace(*change, 1).encode()
    with pytest.raises(TradeFormatError, match=message):
        eurostat_comext.parse(data)


def test_eurostat_annual_periods() -> None:
    assert eurostat_comext.period_of("202452-Jan.-Dec. 2024").granularity == "year"
    assert eurostat_comext.period_of("2024").end == date(2024, 12, 31)
    assert eurostat_comext.period_of("Sept. 2024").start == date(2024, 9, 1)


def test_country_labels_are_not_fuzzy_matched() -> None:
    assert country_iso2("Kosovo") == "XK"  # pycountry's fuzzy search says Serbia
    assert country_iso2("Other Asia, nes") is None


# --- Real extracts (../shared/reference-data/trade) ----------------------------------------

TRADE = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data" / "trade"


def real(relative: str) -> Path:
    path = TRADE / relative
    if not path.exists():
        pytest.skip("../shared/reference-data not present: real trade extracts unavailable")
    return path


def independent_rows(path: Path, encoding: str) -> tuple[list[str], list[list[str]]]:
    """Header and data rows read with the csv module alone (no parser code)."""
    with path.open(encoding=encoding, newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    return rows[0], rows[1:]


def independent_total(path: Path, encoding: str, column: str, scale: int) -> Decimal:
    header, rows = independent_rows(path, encoding)
    index = header.index(column)
    return sum((Decimal(row[index]) for row in rows if row[index].strip()), Decimal(0)) * scale


# file, parser, encoding, value column in the file, unit scale, output column, rows per SOURCES.md
REAL_FILES = [
    ("comtrade/ic_exports_world_HS8542_202501_202508_uncomtrade.csv", comtrade.parse, "cp1252",
     "primaryValue", 1, "value_usd", 396),
    ("comtrade/ic_exports_world_HS8542_raw.csv", comtrade.parse, "cp1252",
     "primaryValue", 1, "value_usd", 1686),
    ("taiwan-customs/taiwan_exports_8542_2013_2025.csv", taiwan_customs.parse, "utf-8-sig",
     "美元(千元)", 1000, "value_usd", 289),
    ("taiwan-customs/taiwan_exports_by_country_2013_2025.csv", taiwan_customs.parse, "utf-8-sig",
     "Export Value (USD)", 1, "value_usd", 9683),
    ("eurostat/eurostat_comext_exports_EU_to_RU_monthly_2019-01_2024-08.csv",
     eurostat_comext.parse, "utf-8-sig", "VALUE_IN_EUR", 1, "value_eur", 2101),
    ("eurostat/eurostat_comext_exports_EU_to_KG_monthly_2019-01_2024-08.csv",
     eurostat_comext.parse, "utf-8-sig", "VALUE_IN_EUR", 1, "value_eur", 1988),
    ("eurostat/eurostat_comext_exports_EU_to_KZ_monthly_2019-01_2024-08.csv",
     eurostat_comext.parse, "utf-8-sig", "VALUE_IN_EUR", 1, "value_eur", 2089),
    ("eurostat/eurostat_comext_exports_EU_to_AM_monthly_2019-01_2024-08.csv",
     eurostat_comext.parse, "utf-8-sig", "VALUE_IN_EUR", 1, "value_eur", 2048),
]  # fmt: skip


@pytest.mark.shared
@pytest.mark.parametrize(
    ("relative", "parse", "encoding", "column", "scale", "output", "documented_rows"),
    REAL_FILES,
    ids=[Path(f[0]).name for f in REAL_FILES],
)
def test_real_extract_rows_and_total_match_an_independent_read(
    relative: str,
    parse: Callable[[bytes], pl.DataFrame],
    encoding: str,
    column: str,
    scale: int,
    output: str,
    documented_rows: int,
) -> None:
    path = real(relative)
    frame = parse(path.read_bytes())
    _, rows = independent_rows(path, encoding)
    assert frame.height == len(rows) == documented_rows
    assert frame["source_row_number"].to_list() == list(range(1, len(rows) + 1))
    assert frame.schema == SCHEMA
    assert frame.filter(pl.col(output).is_null()).height == 0
    expected = independent_total(path, encoding, column, scale).quantize(CENT)
    # Each float read back exactly (its shortest repr), then summed in decimal: to the cent.
    exact = sum((Decimal(repr(v)) for v in frame[output].to_list()), Decimal(0))
    assert exact.quantize(CENT) == expected
    assert abs(Decimal(repr(frame[output].sum())) - expected) < CENT
    other = "value_eur" if output == "value_usd" else "value_usd"
    assert frame[other].null_count() == frame.height  # the other currency is never invented


@pytest.mark.shared
def test_real_comtrade_taiwan_and_cp1252_names() -> None:
    frame = comtrade.parse(real("comtrade/ic_exports_world_HS8542_raw.csv").read_bytes())
    taiwan = frame.filter(pl.col("reporter_country") == "TW")
    assert taiwan["reporter_label"].unique().to_list() == ["Other Asia, nes"]
    assert taiwan.height == 11  # 2013-2023; no 2024 row in this extract
    labels = dict(zip(frame["reporter_country"], frame["reporter_label"], strict=True))
    assert (labels["TR"], labels["CI"], labels["CW"]) == ("Türkiye", "Côte d'Ivoire", "Curaçao")
    assert frame["reporter_country"].null_count() == 0
    assert frame["partner_country"].unique().to_list() == ["WORLD"]
    assert set(frame["hs_edition"]) == {"H1", "H2", "H3", "H4", "H5", "H6"}


@pytest.mark.shared
def test_real_comtrade_taiwan_mirrors_taiwan_customs_in_usd() -> None:
    """Comtrade's 490 and Taiwan Customs (thousand USD x 1000) agree within 1% a year."""
    ct = comtrade.parse(real("comtrade/ic_exports_world_HS8542_raw.csv").read_bytes())
    tw = taiwan_customs.parse(real("taiwan-customs/taiwan_exports_8542_2013_2025.csv").read_bytes())
    customs = tw.group_by("period_start").agg(pl.col("value_usd").sum().alias("customs"))
    joined = ct.filter(pl.col("reporter_country") == "TW").join(customs, on="period_start")
    assert joined.height == 11
    ratios = (joined["value_usd"] / joined["customs"]).to_list()
    assert all(0.99 < ratio < 1.01 for ratio in ratios), ratios


@pytest.mark.shared
def test_real_taiwan_exports_to_russia_8542() -> None:
    frame = taiwan_customs.parse(
        real("taiwan-customs/taiwan_exports_by_country_2013_2025.csv").read_bytes()
    )
    russia = frame.filter(pl.col("partner_country") == "RU", pl.col("hs6").str.starts_with("8542"))
    assert russia["partner_label"].unique().to_list() == ["俄羅斯"]
    by_year = {
        row["period_start"].year: row["value_usd"]
        for row in russia.group_by("period_start").agg(pl.col("value_usd").sum()).to_dicts()
    }
    # SOURCES.md: USD 21.6 M in 2021 and 0.62 M in 2024. The file has 21,649,000 and 619,000.
    assert round(by_year[2021] / 1e6, 1) == 21.6
    assert round(by_year[2024] / 1e6, 2) == 0.62
    assert by_year[2021] == pytest.approx(21_649_000)
    assert by_year[2024] == pytest.approx(619_000)


@pytest.mark.shared
def test_real_taiwan_by_country_years_equal_portal_totals() -> None:
    """Both Taiwan files agree to the cent each year; the by-country "2025" is Jan-Jul only."""
    portal = taiwan_customs.parse(
        real("taiwan-customs/taiwan_exports_8542_2013_2025.csv").read_bytes()
    )
    by_country = taiwan_customs.parse(
        real("taiwan-customs/taiwan_exports_by_country_2013_2025.csv").read_bytes()
    )
    totals: dict[str, dict[int, Decimal]] = {
        "portal": defaultdict(Decimal),
        "by": defaultdict(Decimal),
    }
    for name, frame in (("portal", portal), ("by", by_country)):
        for start, value in zip(frame["period_start"], frame["value_usd"], strict=True):
            totals[name][start.year] += Decimal(repr(value))
    assert set(totals["portal"]) == set(totals["by"]) == set(range(2013, 2026))
    for year in totals["portal"]:
        assert totals["portal"][year].quantize(CENT) == totals["by"][year].quantize(CENT), year
    last = portal.filter(pl.col("period_granularity") == "partial_year")
    assert last["period_end"].unique().to_list() == [date(2025, 7, 31)]


@pytest.mark.shared
def test_real_taiwan_country_table_matches_the_bundled_json() -> None:
    names = json.loads(real("taiwan-customs/country_name_map_full.json").read_text("utf-8"))
    assert set(names) == set(taiwan_customs.TAIWAN_COUNTRY_NAMES)
    for chinese, english in names.items():
        assert taiwan_customs.TAIWAN_COUNTRY_NAMES[chinese] == country_iso2(english), chinese
    frame = taiwan_customs.parse(
        real("taiwan-customs/taiwan_exports_by_country_2013_2025.csv").read_bytes()
    )
    unmapped = frame.filter(pl.col("partner_country").is_null())["partner_label"].unique()
    assert sorted(unmapped) == sorted(["其他國家", "荷屬安地列斯"])


@pytest.mark.shared
@pytest.mark.parametrize(
    ("partner", "aug_2019", "aug_2024"),
    [("RU", 7.57e9, 2.48e9), ("KG", 27e6, 235e6), ("KZ", None, None), ("AM", None, None)],
)
def test_real_eurostat_aggregates(
    partner: str, aug_2019: float | None, aug_2024: float | None
) -> None:
    path = next(real("eurostat").glob(f"*_to_{partner}_monthly_*.csv"))
    frame = eurostat_comext.parse(path.read_bytes())
    assert frame["partner_country"].unique().to_list() == [partner]
    aggregates = frame.filter(pl.col("reporter_is_aggregate"))
    assert sorted(aggregates["reporter_country"].unique()) == ["EA", "EA20", "EU", "EU27"]
    assert frame["reporter_country"].null_count() == 0
    eu27 = dict(
        frame.filter(pl.col("reporter_country") == "EU27")
        .select("period_start", "value_eur")
        .iter_rows()
    )
    assert len(eu27) == 68
    # EU27 equals the sum of its member states, every month (the UK is not in EU27_2020).
    members = frame.filter(~pl.col("reporter_is_aggregate"), pl.col("reporter_country") != "GB")
    sums = dict(members.group_by("period_start").agg(pl.col("value_eur").sum()).iter_rows())
    assert sums == eu27
    if aug_2019 is not None and aug_2024 is not None:
        assert eu27[date(2019, 8, 1)] == pytest.approx(aug_2019, rel=0.01)
        assert eu27[date(2024, 8, 1)] == pytest.approx(aug_2024, rel=0.01)


@pytest.mark.shared
def test_real_extracts_land_through_the_pipeline_asset(tmp_path: Path) -> None:
    import dagster as dg
    import duckdb

    from assets.common.landing import LandingArea
    from assets.common.warehouse import Warehouse
    from assets.trade_statistics.published import LANDING, published_trade_statistics

    trade = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data" / "trade"
    if not trade.exists():
        pytest.skip("../shared/reference-data not present: real trade extracts unavailable")
    sources = {
        "comtrade": trade / "comtrade" / "ic_exports_world_HS8542_202501_202508_uncomtrade.csv",
        "taiwan_customs": trade / "taiwan-customs" / "taiwan_exports_8542_2013_2025.csv",
        "eurostat_comext": trade
        / "eurostat"
        / "eurostat_comext_exports_EU_to_RU_monthly_2019-01_2024-08.csv",
    }
    for format_name, source in sources.items():
        folder = tmp_path / "landing" / LANDING / format_name
        folder.mkdir(parents=True)
        (folder / source.name).write_bytes(source.read_bytes())
    warehouse = Warehouse(
        build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w.duckdb")
    )
    result = dg.materialize(
        [published_trade_statistics],
        resources={"warehouse": warehouse, "landing": LandingArea(path=str(tmp_path / "landing"))},
    )
    assert result.success
    con = duckdb.connect(warehouse.build_path, read_only=True)
    counts = dict(
        con.execute(
            "select format, count(*) from staging.published_trade_statistics group by 1"
        ).fetchall()
    )
    con.close()
    assert counts == {"comtrade": 396, "taiwan_customs": 289, "eurostat_comext": 2101}
