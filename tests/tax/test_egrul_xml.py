"""Tests for the EGRUL XML parser: fictional extracts in the real layout, then the real files."""

from __future__ import annotations

import gzip
import re
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

from assets.tax.egrul_xml import (
    COLUMNS,
    PARSER_VERSION,
    SCHEMA,
    RegistryFormatError,
    latest_per_company,
    parse,
)

EGRUL_DIR = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "reference-data"
    / "ru-company"
    / "egrul"
)

# Fictional companies; identifiers carry valid check digits (python-stdnum) unless noted.
INN_A, OGRN_A = "9909000011", "1099900000012"
INN_B, OGRN_B = "9909000029", "1109900000022"
INN_C, OGRN_C = "9909000036", "1219900000033"
INN_D, OGRN_D = "9909000043", "1229900000043"
INN_BAD = "9909000012"  # check digit should be 1
OGRN_BAD = "1229900000044"  # check digit should be 3

# Fictional natural persons: none of these values may appear in the output.
PERSON_VALUES = (
    "ПЕРСОНОВ",
    "ФИКТИВ",
    "ТЕСТОВИЧ",
    "ОТПРАВИТЕЛЕВ",
    "УЧРЕДИТЕЛЕВА",
    "990900001190",  # a personal (12-digit) INN with valid check digits
    "УЛИЦА-СЕКРЕТНАЯ",
    "ДОМ-13",
)

HEADER = (
    '<Файл ИдФайл="VO_RUGFO_0000_9965_20990101_fictional" ВерсФорм="4.07" '
    'ТипИнф="{kind}" ВерсПрог="1.0.0.2" КолДок="{count}">\r\n'
    '  <ИдОтпр ДолжОтв="Специалист" Тлф="(000)0000000">\r\n'
    '    <ФИООтв Фамилия="ОТПРАВИТЕЛЕВ" Имя="ФИКТИВ" Отчество="ТЕСТОВИЧ" />\r\n'
    "  </ИдОтпр>\r\n"
)
OFFICER = """
      <СведДолжнФЛ>
        <ГРНДатаПерв ГРН="2259900000001" ДатаЗаписи="2025-01-01"/>
        <СвФЛ Фамилия="ПЕРСОНОВ" Имя="ФИКТИВ" Отчество="ТЕСТОВИЧ" ИННФЛ="990900001190">
          <ГРНДата ГРН="2259900000001" ДатаЗаписи="2025-01-01"/>
        </СвФЛ>
        <СвДолжн ВидДолжн="02" НаимВидДолжн="Руководитель" НаимДолжн="ГЕНЕРАЛЬНЫЙ ДИРЕКТОР"/>
      </СведДолжнФЛ>
      <СвУчредит>
        <УчрФЛ>
          <СвФЛ Фамилия="УЧРЕДИТЕЛЕВА" Имя="ФИКТИВ" Отчество="ТЕСТОВИЧ" ИННФЛ="990900001190"/>
          <ДоляУстКап НоминСтоим="10000"><РазмерДоли><Процент>100</Процент></РазмерДоли>
          </ДоляУстКап>
        </УчрФЛ>
      </СвУчредит>"""
ADDRESS_KLADR = """
      <СвАдресЮЛ>
        <АдресРФ Индекс="000000" КодРегион="{region}" КодАдрКладр="000000000000000" Дом="ДОМ-13">
          <Регион ТипРегион="ГОРОД" НаимРегион="ВЫМЫШЛЕНСК"/>
          <Улица ТипУлица="УЛИЦА" НаимУлица="УЛИЦА-СЕКРЕТНАЯ"/>
          <ГРНДата ГРН="2259900000002" ДатаЗаписи="2025-01-01"/>
        </АдресРФ>
      </СвАдресЮЛ>"""
ADDRESS_FIAS = """
      <СвАдресЮЛ ВидАдрКлассиф="2">
        <СвМНЮЛ ИдНом="1"><Регион>{region}</Регион><НаимРегион>ВЫМЫШЛЕНСК</НаимРегион></СвМНЮЛ>
        <СвАдрЮЛФИАС ИдНом="2" Индекс="000000">
          <Регион> {region} </Регион><НаимРегион>ВЫМЫШЛЕНСК</НаимРегион>
          <ЭлУлДорСети Тип="УЛИЦА" Наим="УЛИЦА-СЕКРЕТНАЯ"/>
          <Здание Тип="ДОМ" Номер="ДОМ-13"/>
        </СвАдрЮЛФИАС>
      </СвАдресЮЛ>"""
OKVED = """
      <СвОКВЭД>
        <СвОКВЭДОсн КодОКВЭД="{code}" НаимОКВЭД="Производство станков" ПрВерсОКВЭД="2014"/>
        <СвОКВЭДДоп КодОКВЭД="46.62" НаимОКВЭД="Торговля станками" ПрВерсОКВЭД="2014"/>
      </СвОКВЭД>"""
STATUS = """
      <СвСтатус>
        <СвСтатус КодСтатусЮЛ="{code}" НаимСтатусЮЛ="{name}"/>
        <ГРНДата ГРН="2259900000003" ДатаЗаписи="2025-10-01"/>
      </СвСтатус>"""
CEASED = """
      <СвПрекрЮЛ ДатаПрекрЮЛ="2024-03-01">
        <СпПрекрЮЛ КодСпПрекрЮЛ="201" НаимСпПрекрЮЛ="Прекращение деятельности юридического лица
 в связи с ликвидацией на основании определения арбитражного суда"/>
        <ГРНДата ГРН="2249900000004" ДатаЗаписи="2024-03-01"/>
      </СвПрекрЮЛ>"""
REORGANIZATION = """
      <СвРеорг>
        <СвСтатус КодСтатусЮЛ="121" НаимСтатусЮЛ="В процессе присоединения к другому ЮЛ"/>
        <ГРНДата ГРН="2259900000005" ДатаЗаписи="2025-09-01"/>
      </СвРеорг>"""
LIQUIDATING_NAME = "Находится в стадии ликвидации"
EXCLUSION_NAME = (
    "Регистрирующим органом принято решение о предстоящем исключении юридического лица из "
    "ЕГРЮЛ (недействующее юридическое лицо)"
)


def document(
    inn: str | None,
    ogrn: str,
    *,
    issued: str,
    name: str,
    short: str | None = None,
    kpp: str | None = "990901001",
    registered: str = "2010-02-03",
    body: str = "",
) -> str:
    """One `Документ` in the layout of the real FNS files (attribute order, nesting, CRLF)."""
    name = escape(name, {'"': "&quot;"})
    short = None if short is None else escape(short, {'"': "&quot;"})
    inn_attr = f' ИНН="{inn}"' if inn is not None else ""
    kpp_attr = f' КПП="{kpp}"' if kpp is not None else ""
    short_el = (
        f'\n        <СвНаимЮЛСокр НаимСокр="{short}"><ГРНДата ГРН="{ogrn}" '
        f'ДатаЗаписи="{registered}"/></СвНаимЮЛСокр>'
        if short is not None
        else ""
    )
    text = (
        f'  <Документ ИдДок="00000000-0000-0000-0000-{ogrn[-12:]}">'
        f'<СвЮЛ ДатаВып="{issued}" ОГРН="{ogrn}" ДатаОГРН="{registered}"{inn_attr}{kpp_attr} '
        'СпрОПФ="ОКОПФ" КодОПФ="12300" ПолнНаимОПФ="Общества с ограниченной ответственностью">\n'
        f'      <СвНаимЮЛ НаимЮЛПолн="{name}">\n'
        f'        <ГРНДата ГРН="{ogrn}" ДатаЗаписи="{registered}"/>{short_el}\n'
        f"      </СвНаимЮЛ>{body}\n"
        f'      <СвЗапЕГРЮЛ ИдЗап="1" ГРН="{ogrn}" ДатаЗап="{registered}"/>\n'
        "    </СвЮЛ>\n  </Документ>\n"
    )
    return text.replace("\n", "\r\n")


def extract(
    *documents: str,
    count: int | None = None,
    encoding: str | None = "windows-1251",
    codec: str = "cp1251",
    kind: str = "ЕГРЮЛ_ОТКР_СВЕД",
) -> bytes:
    """A whole file, encoded like the real ones unless told otherwise."""
    declared = len(documents) if count is None else count
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>\r\n' if encoding is not None else ""
    text = (
        prolog
        + HEADER.format(kind=kind, count=f"{declared:>10}")
        + "".join(documents)
        + "</Файл>\r\n"
    )
    return text.encode(codec)


NAME_A = 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "ВЫМЫШЛЕННЫЕ СТАНКИ"'
NAME_A_RENAMED = 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "ВЫМЫШЛЕННЫЕ  СТАНКИ-ПЛЮС"'
NAME_B = 'АКЦИОНЕРНОЕ ОБЩЕСТВО "ПРИДУМАННЫЙ ЗАВОД"'
NAME_C = 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "НЕСУЩЕСТВУЮЩИЙ ИМПОРТ"'

DAILY = extract(
    # Two documents for company A on the same day: the second one is a rename.
    document(
        INN_A,
        OGRN_A,
        issued="2099-01-01",
        name=NAME_A,
        short='ООО "ВЫМЫШЛЕННЫЕ СТАНКИ"',
        body=ADDRESS_KLADR.format(region="77") + OFFICER + OKVED.format(code="28.41"),
    ),
    document(
        INN_A,
        OGRN_A,
        issued="2099-01-01",
        name=NAME_A_RENAMED,
        short='ООО "ВЫМЫШЛЕННЫЕ СТАНКИ-ПЛЮС"',
        body=ADDRESS_FIAS.format(region="77") + OFFICER + OKVED.format(code="28.41.1"),
    ),
    # A liquidated company; a leftover liquidation status must not win over СвПрекрЮЛ.
    document(
        INN_B,
        OGRN_B,
        issued="2098-12-30",
        name=NAME_B,
        short='АО "ПРИДУМАННЫЙ ЗАВОД"',
        registered="2010-05-06",
        body=ADDRESS_FIAS.format(region="50")
        + STATUS.format(code="101", name=LIQUIDATING_NAME)
        + CEASED
        + OFFICER,
    ),
    # Only the mandatory parts: no short name, KPP, address, OKVED or status.
    document(INN_C, OGRN_C, issued="2098-12-31", name=NAME_C, kpp=None, registered="2021-07-08"),
)


def expected_daily() -> pl.DataFrame:
    rows = [
        (
            INN_A,
            OGRN_A,
            "990901001",
            NAME_A,
            'ООО "ВЫМЫШЛЕННЫЕ СТАНКИ"',
            "28.41",
            "77",
            "active",
            date(2010, 2, 3),
            date(2099, 1, 1),
            True,
            True,
            1,
        ),
        (
            INN_A,
            OGRN_A,
            "990901001",
            'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "ВЫМЫШЛЕННЫЕ СТАНКИ-ПЛЮС"',
            'ООО "ВЫМЫШЛЕННЫЕ СТАНКИ-ПЛЮС"',
            "28.41.1",
            "77",
            "active",
            date(2010, 2, 3),
            date(2099, 1, 1),
            True,
            True,
            2,
        ),
        (
            INN_B,
            OGRN_B,
            "990901001",
            NAME_B,
            'АО "ПРИДУМАННЫЙ ЗАВОД"',
            None,
            "50",
            "liquidated",
            date(2010, 5, 6),
            date(2098, 12, 30),
            True,
            True,
            3,
        ),
        (
            INN_C,
            OGRN_C,
            None,
            NAME_C,
            None,
            None,
            None,
            "active",
            date(2021, 7, 8),
            date(2098, 12, 31),
            True,
            True,
            4,
        ),
    ]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def test_fictional_identifiers_are_what_the_fixtures_claim() -> None:
    assert all(ru_inn.is_valid(value) for value in (INN_A, INN_B, INN_C, INN_D))
    assert all(ru_ogrn.is_valid(value) for value in (OGRN_A, OGRN_B, OGRN_C, OGRN_D))
    assert not ru_inn.is_valid(INN_BAD)
    assert not ru_ogrn.is_valid(OGRN_BAD)
    assert ru_inn.is_valid("990900001190")  # the fictional officer's personal INN


def test_parser_version() -> None:
    assert PARSER_VERSION == "egrul-xml/1"


def test_daily_file_one_row_per_document() -> None:
    frame = parse(DAILY)
    assert_frame_equal(frame, expected_daily())
    assert tuple(frame.columns) == COLUMNS
    assert frame.schema == pl.Schema(SCHEMA)


def test_latest_per_company_same_day_takes_later_document() -> None:
    latest = latest_per_company(parse(DAILY))
    assert latest["inn"].to_list() == [INN_A, INN_B, INN_C]
    row_a = latest.row(0, named=True)
    assert row_a["source_row_number"] == 2
    assert row_a["name_short_ru"] == 'ООО "ВЫМЫШЛЕННЫЕ СТАНКИ-ПЛЮС"'
    assert latest.columns == list(COLUMNS)


def test_latest_per_company_later_date_beats_later_position() -> None:
    data = extract(
        document(INN_A, OGRN_A, issued="2099-01-02", name="НОВОЕ ИМЯ"),
        document(INN_A, OGRN_A, issued="2099-01-01", name="СТАРОЕ ИМЯ"),
        document(INN_A, OGRN_A, issued="2098-12-31", name="СОВСЕМ СТАРОЕ ИМЯ"),
    )
    latest = latest_per_company(parse(data))
    assert latest.height == 1
    assert latest["name_ru"].to_list() == ["НОВОЕ ИМЯ"]


def test_latest_per_company_null_date_is_oldest_and_null_inn_is_dropped() -> None:
    data = extract(
        document(INN_A, OGRN_A, issued="2099-01-01", name="С ДАТОЙ"),
        document(INN_A, OGRN_A, issued="", name="БЕЗ ДАТЫ"),
        document(None, OGRN_B, issued="2099-01-01", name="БЕЗ ИНН"),
    )
    frame = parse(data)
    assert frame["record_date"].to_list() == [date(2099, 1, 1), None, date(2099, 1, 1)]
    assert frame["inn_valid"].to_list() == [True, True, None]
    latest = latest_per_company(frame)
    assert latest["name_ru"].to_list() == ["С ДАТОЙ"]


def test_latest_per_company_across_concatenated_files() -> None:
    first = parse(extract(document(INN_A, OGRN_A, issued="2099-01-01", name="ФАЙЛ 1")))
    second = parse(extract(document(INN_A, OGRN_A, issued="2099-01-01", name="ФАЙЛ 2")))
    latest = latest_per_company(pl.concat([first, second]))
    assert latest["name_ru"].to_list() == ["ФАЙЛ 2"]


def test_latest_per_company_needs_parser_columns() -> None:
    with pytest.raises(ValueError, match="record_date"):
        latest_per_company(pl.DataFrame({"inn": ["1"], "source_row_number": [1]}))


def test_empty_file_gives_empty_typed_frame() -> None:
    frame = parse(extract())
    assert frame.height == 0
    assert frame.schema == pl.Schema(SCHEMA)
    assert latest_per_company(frame).height == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (STATUS.format(code="101", name=LIQUIDATING_NAME), "liquidating"),
        (REORGANIZATION, "reorganizing"),
        (STATUS.format(code="105", name=EXCLUSION_NAME), EXCLUSION_NAME),
        (STATUS.format(code="999", name=""), "999"),
        (
            STATUS.format(code="105", name=EXCLUSION_NAME)
            + STATUS.format(code="101", name=LIQUIDATING_NAME),
            "liquidating",
        ),
        (STATUS.format(code="101", name=LIQUIDATING_NAME) + CEASED, "liquidated"),
        (
            '\n      <СвСтатус КодСтатусЮЛ="113" '
            'НаимСтатусЮЛ="Находится в стадии реорганизации в форме выделения"/>',
            "reorganizing",
        ),
        ("", "active"),
    ],
    ids=[
        "liquidating",
        "reorganizing",
        "other-text",
        "code-only",
        "liquidating-wins",
        "ceased-wins",
        "old-flat-layout",
        "no-status",
    ],
)
def test_status(body: str, expected: str) -> None:
    frame = parse(extract(document(INN_D, OGRN_D, issued="2099-01-01", name="X", body=body)))
    assert frame["status"].to_list() == [expected]


def test_invalid_identifiers_are_kept_and_flagged() -> None:
    frame = parse(extract(document(INN_BAD, OGRN_BAD, issued="2099-01-01", name="X")))
    assert frame.select("inn", "ogrn", "inn_valid", "ogrn_valid").row(0) == (
        INN_BAD,
        OGRN_BAD,
        False,
        False,
    )


def test_okved_only_from_okved2_and_region_fallbacks() -> None:
    old_okved = OKVED.format(code="29.40.1").replace(' ПрВерсОКВЭД="2014"', "", 1)
    mn_only = (
        '\n      <СвАдресЮЛ><СвМНЮЛ ИдНом="1"><Регион>23</Регион>'
        "<НаимРегион>КРАЙ</НаимРегион></СвМНЮЛ></СвАдресЮЛ>"
    )
    frame = parse(
        extract(
            document(INN_A, OGRN_A, issued="2099-01-01", name="X", body=old_okved + mn_only),
            document(
                INN_B, OGRN_B, issued="2099-01-01", name="Y", body=ADDRESS_KLADR.format(region="16")
            ),
        )
    )
    assert frame["okved"].to_list() == [None, None]
    assert frame["region_code"].to_list() == ["23", "16"]


def test_no_personal_data_in_output() -> None:
    frame = parse(DAILY)
    assert tuple(frame.columns) == COLUMNS
    cells = [str(value) for column in frame.iter_columns() for value in column.to_list()]
    for value in PERSON_VALUES:
        assert value.encode("cp1251") in DAILY  # the fixture does contain it...
        assert not any(value in cell for cell in cells), value  # ...the output does not


@pytest.mark.parametrize(
    ("encoding", "codec"),
    [
        ("windows-1251", "cp1251"),
        ("WINDOWS-1251", "cp1251"),
        ("utf-8", "utf-8"),
        (None, "cp1251"),  # no prolog: the FNS encoding is the fallback
        (None, "utf-8"),  # no prolog: strict UTF-8 first
        (None, "utf-8-sig"),
    ],
)
def test_encodings(encoding: str | None, codec: str) -> None:
    data = extract(
        document(INN_A, OGRN_A, issued="2099-01-01", name=NAME_A), encoding=encoding, codec=codec
    )
    assert parse(data)["name_ru"].to_list() == [NAME_A]


def test_declared_encoding_must_match_the_bytes() -> None:
    data = extract(document(INN_A, OGRN_A, issued="2099-01-01", name=NAME_A), encoding="UTF-8")
    with pytest.raises(RegistryFormatError, match="not valid utf-8"):
        parse(data)


def test_unknown_declared_encoding() -> None:
    data = extract(document(INN_A, OGRN_A, issued="2099-01-01", name="X"), encoding="x-klingon")
    with pytest.raises(RegistryFormatError, match="unknown declared encoding"):
        parse(data)


BILLION_LAUGHS = """<?xml version="1.0" encoding="windows-1251"?>
<!DOCTYPE Файл [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Файл КолДок="1"><Документ><СвЮЛ ИНН="9909000011" ОГРН="1099900000012">
<СвНаимЮЛ НаимЮЛПолн="&lol4;"/></СвЮЛ></Документ></Файл>
""".encode("cp1251")
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>"""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty input"),
        (b"  \r\n ", "empty input"),
        (gzip.compress(DAILY), "gzip"),
        (BILLION_LAUGHS, "DTD or entity declaration"),
        (EXTERNAL_ENTITY, "DTD or entity declaration"),
        (b'<?xml version="1.0"?><!DOCTYPE x><x/>', "DTD or entity declaration"),
        (b"not xml at all", "not well-formed"),
        (b'<?xml version="1.0"?><File/>', "root element is <File>"),
        ("<Файл><Документ></Файл>".encode("cp1251"), "not well-formed"),
    ],
    ids=[
        "empty",
        "blank",
        "gzip",
        "billion-laughs",
        "external-entity",
        "bare-doctype",
        "not-xml",
        "wrong-root",
        "truncated",
    ],
)
def test_malformed_input(data: bytes, message: str) -> None:
    with pytest.raises(RegistryFormatError, match=message):
        parse(data)
    assert issubclass(RegistryFormatError, ValueError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            extract(document(INN_A, OGRN_A, issued="2099-01-01", name="X"), count=2),
            "КолДок=2 but the file holds 1",
        ),
        (extract(kind="ЕГРИП_ОТКР_СВЕД"), "EGRIP"),
        (
            extract('<Документ ИдДок="1"><СвИП ОГРНИП="1"/></Документ>'),
            "has no <СвЮЛ>",
        ),
        (
            extract(document("990900001190", OGRN_A, issued="2099-01-01", name="X")),
            "12-digit",
        ),
        (
            extract(document(INN_A, "309990000000012", issued="2099-01-01", name="X")),
            "15-digit OGRNIP",
        ),
        (
            extract(document(INN_A, OGRN_A, issued="01.01.2099", name="X")),
            "ДатаВып='01.01.2099' is not YYYY-MM-DD",
        ),
        (
            extract(document(INN_A, OGRN_A, issued="2099-02-30", name="X")),
            "is not a date",
        ),
    ],
    ids=["count", "egrip", "no-entity", "personal-inn", "ogrnip", "date-format", "date-value"],
)
def test_rejected_content(data: bytes, message: str) -> None:
    with pytest.raises(RegistryFormatError, match=message):
        parse(data)


# --- real FNS files ------------------------------------------------------------------------

# Known contents of the bundled files (SOURCES.md): documents, distinct INNs.
KNOWN_FILES: dict[str, tuple[int, int]] = {
    "VO_RUGFO_0000_9965_20251105_9461e1d5-bbb8-4659-8e86-91fc9dfd2e64.xml": (2, 1),
    "VO_RUGFO_0000_9965_20251116_c16d3011-7d08-44a1-b93c-9af6842a34d0.xml": (2, 2),
}
_PROLOG_ENCODING = re.compile(rb'^<\?xml[^>]*encoding="([^"]+)"')
_DOCUMENT_OPEN = re.compile(r"<Документ[\s>/]")
_ENTITY_INN = re.compile(r'<СвЮЛ\s[^>]*?\bИНН="([^"]*)"')
_ENTITY_OGRN = re.compile(r'<СвЮЛ\s[^>]*?\bОГРН="([^"]*)"')
_PERSON_ATTR = re.compile(r'\b(?:Фамилия|Имя|Отчество|ИННФЛ)="([^"]+)"')


@pytest.fixture(scope="module")
def egrul_files() -> list[Path]:
    files = sorted(EGRUL_DIR.glob("*.xml")) if EGRUL_DIR.is_dir() else []
    if not files:
        pytest.skip("../shared/reference-data not present: real EGRUL extracts unavailable")
    return files


def _independent_text(path: Path) -> str:
    data = path.read_bytes()
    declared = _PROLOG_ENCODING.match(data)
    assert declared is not None and declared.group(1).lower() == b"windows-1251"
    return data.decode("cp1251")


@pytest.mark.shared
def test_real_document_counts_match_independent_count(egrul_files: list[Path]) -> None:
    for path in egrul_files:
        frame = parse(path.read_bytes())
        text = _independent_text(path)
        assert frame.height == len(_DOCUMENT_OPEN.findall(text)), path.name
        assert frame["source_row_number"].to_list() == list(range(1, frame.height + 1))
        if path.name in KNOWN_FILES:
            documents, companies = KNOWN_FILES[path.name]
            assert frame.height == documents
            assert frame["inn"].n_unique() == companies
            assert latest_per_company(frame).height == companies


@pytest.mark.shared
def test_real_identifiers_match_text_and_stdnum(egrul_files: list[Path]) -> None:
    for path in egrul_files:
        frame = parse(path.read_bytes())
        text = _independent_text(path)
        assert frame["inn"].to_list() == _ENTITY_INN.findall(text)
        assert frame["ogrn"].to_list() == _ENTITY_OGRN.findall(text)
        for row in frame.iter_rows(named=True):
            assert row["inn_valid"] is ru_inn.is_valid(row["inn"])
            assert row["ogrn_valid"] is ru_ogrn.is_valid(row["ogrn"])
            assert len(row["inn"]) == 10 and len(row["ogrn"]) == 13
        assert frame["record_date"].null_count() == 0
        assert frame["name_ru"].null_count() == 0


@pytest.mark.shared
def test_real_files_output_no_personal_data(egrul_files: list[Path]) -> None:
    for path in egrul_files:
        frame = parse(path.read_bytes())
        assert tuple(frame.columns) == COLUMNS
        text = _independent_text(path)
        personal = set(_PERSON_ATTR.findall(text))
        assert personal, "the real files name officers; the check would be vacuous otherwise"
        cells = [str(value) for column in frame.iter_columns() for value in column.to_list()]
        words = {word for cell in cells for word in re.findall(r"\w+", cell)}
        # Whole words, since a short first name can be a substring of an ordinary word.
        leaked = [value for value in personal if value in words]
        # Count only, so a failure does not print personal data.
        assert not leaked, f"{len(leaked)} personal value(s) leaked into {path.name}"


@pytest.mark.shared
@pytest.mark.slow  # a full build of its own
def test_real_egrul_extracts_reach_core_companies(tmp_path: Path) -> None:
    import duckdb
    from conftest import settings_for

    from orchestration import cli

    egrul = Path(__file__).resolve().parents[2].parent / "shared" / "reference-data"
    egrul = egrul / "ru-company" / "egrul"
    if not egrul.exists():
        pytest.skip("../shared/reference-data not present: real EGRUL extracts unavailable")
    settings = settings_for(tmp_path / "data")
    cli.seed_landing(settings)
    folder = settings.landing_dir / "tax" / "egrul"
    folder.mkdir(parents=True)
    for path in egrul.glob("*.xml"):
        (folder / path.name).write_bytes(path.read_bytes())
    import os

    previous = os.environ.get("DAGSTER_HOME")
    cli.prepare_dagster_home(settings)
    try:
        assert cli.build(settings)
    finally:
        if previous is not None:
            os.environ["DAGSTER_HOME"] = previous
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    rows = con.execute(
        "select inn, registry_source, inn_valid from core.companies "
        "where inn in ('7842159080', '9901003878', '9901033696') order by inn"
    ).fetchall()
    con.close()
    assert rows == [
        ("7842159080", "egrul", True),
        ("9901003878", "egrul", True),
        ("9901033696", "egrul", True),
    ]
