"""The planted facts of the synthetic demo data, as plain records a test can aggregate.

Everything here is fixed: it does not depend on the generator's `--seed`, which only drives the
background noise. Every trade and tax record is synthetic; the one real name is the sanctioned
counterparty (OFAC SDN ent_num 47497), and only its name, INN and OGRN are real.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from itertools import pairwise

from demo import names

DEFAULT_SEED = 20240125
MONTHS: list[str] = [f"{year}-{month:02d}" for year in (2022, 2023, 2024) for month in range(1, 13)]
YEARS: tuple[int, ...] = (2022, 2023, 2024)
IMPORTER_COUNTRY = "RU"

CNC_HS6: tuple[str, ...] = ("845710", "845811", "845891", "845961", "846693")
CONTROL_DATES: tuple[str, str] = ("2024-01-25", "2024-03-08")
LISTING_DATE = "2024-02-23"
# No planted record is dated on a boundary, so "before" (<) and "on or after" (>=) are unambiguous.
BOUNDARY_DATES: tuple[str, ...] = (*CONTROL_DATES, LISTING_DATE)

CUSTOMS_COLUMNS: tuple[str, ...] = (
    "declaration_id", "declaration_date", "importer_name", "importer_inn", "exporter_name",
    "exporter_country", "origin_country", "dispatch_country", "commodity_code",
    "goods_description", "invoice_value", "invoice_currency", "statistical_value_usd",
    "net_weight_kg", "quantity", "quantity_unit",
)  # fmt: skip

CENT = Decimal("0.01")
_RATE_QUANTUM = Decimal("0.00000001")

# Sales are invoiced at import cost x this markup, at the month's RUB rate (see sales_invoices).
CNC_IMPORTER_MARKUP = Decimal("1.32")
# Buyer mix of the CNC importer's sales by value (per year, up to a kopeck).
CNC_SALES_SHARES: dict[str, Decimal] = {
    "defence": Decimal("0.86"),
    "sanctioned": Decimal("0.08"),
    "civilian": Decimal("0.06"),
}
# Net profit (line 2400) of the CNC importer as a share of revenue, by year.
CNC_IMPORTER_MARGIN: dict[int, Decimal] = {2023: Decimal("0.041"), 2024: Decimal("0.037")}
CNC_IMPORTER_LOSS_2022_THOUSAND_RUB = -184


def money(value: Decimal) -> Decimal:
    """Round half up to cents (or kopecks)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def month_of(day: str) -> str:
    return day[:7]


# ----------------------------------------------------------------------------- exchange rates

# Local currency units per USD at anchor months (index into MONTHS); linear in between.
# SYNTHETIC: shaped like the real series but not taken from any publication.
_FX_ANCHORS: dict[str, tuple[tuple[int, str], ...]] = {
    "AED": ((0, "3.6725"), (35, "3.6725")),
    "BYN": ((0, "2.57"), (4, "2.55"), (9, "2.52"), (12, "2.70"), (18, "3.25"), (35, "3.30")),
    "CHF": ((0, "0.92"), (9, "0.99"), (12, "0.92"), (21, "0.90"), (24, "0.85"), (35, "0.89")),
    "CNY": ((0, "6.36"), (6, "6.70"), (9, "7.15"), (12, "6.85"), (18, "7.20"), (35, "7.28")),
    "EUR": ((0, "0.88"), (6, "0.97"), (9, "1.02"), (12, "0.93"), (24, "0.92"), (35, "0.95")),
    "GBP": ((0, "0.74"), (9, "0.89"), (12, "0.83"), (24, "0.79"), (35, "0.79")),
    "HKD": ((0, "7.79"), (12, "7.83"), (35, "7.78")),
    "INR": ((0, "74.5"), (9, "81.5"), (12, "82.5"), (24, "83.1"), (35, "85.2")),
    "JPY": ((0, "115"), (9, "147"), (12, "130"), (21, "150"), (30, "158"), (35, "153")),
    "KRW": ((0, "1195"), (9, "1420"), (12, "1270"), (21, "1340"), (30, "1380"), (35, "1440")),
    "KZT": ((0, "434"), (9, "470"), (12, "462"), (18, "450"), (30, "470"), (35, "525")),
    "RUB": (
        (0, "75"), (2, "118"), (4, "68"), (5, "56"), (9, "61"), (12, "70"), (18, "90"),
        (21, "98"), (24, "89"), (30, "87"), (33, "96"), (35, "101"),
    ),
    "TRY": ((0, "13.5"), (6, "17.6"), (12, "18.8"), (17, "23.4"), (24, "30.3"), (35, "35.0")),
    "TWD": ((0, "27.7"), (6, "29.8"), (9, "31.8"), (12, "30.4"), (24, "31.4"), (35, "32.7")),
    "USD": ((0, "1"), (35, "1")),
}  # fmt: skip
FX_CURRENCIES: tuple[str, ...] = tuple(sorted(_FX_ANCHORS))


def _units_per_usd(currency: str, index: int) -> Decimal:
    anchors = _FX_ANCHORS[currency]
    for (i0, v0), (i1, v1) in pairwise(anchors):
        if i0 <= index <= i1:
            a, b = Decimal(v0), Decimal(v1)
            return a + (b - a) * Decimal(index - i0) / Decimal(i1 - i0)
    raise ValueError(f"no FX anchor for {currency} month #{index}")


@cache
def fx_rate(currency: str, month: str) -> Decimal:
    """USD per one unit of `currency` in `month` (synthetic, 8 decimals)."""
    if currency == "USD":
        return Decimal("1.00000000")
    units = _units_per_usd(currency, MONTHS.index(month))
    return (Decimal(1) / units).quantize(_RATE_QUANTUM, rounding=ROUND_HALF_UP)


def to_usd(value: Decimal, currency: str, month: str) -> Decimal:
    """The statistical value: invoice value x the month's rate, rounded half up to cents."""
    return money(value * fx_rate(currency, month))


def from_usd(usd: Decimal, currency: str, month: str) -> Decimal:
    """An invoice value in `currency` worth about `usd` (used to build records, not to check)."""
    return money(usd / fx_rate(currency, month))


def fx_rows() -> list[tuple[str, str, str]]:
    return [(c, m, f"{fx_rate(c, m):.8f}") for c in FX_CURRENCIES for m in MONTHS]


# ----------------------------------------------------------------------------- records


def fmt_decimal(value: Decimal) -> str:
    return f"{value:.2f}"


_COUNT_UNITS = ("pcs", "set", "pair")


@dataclass(frozen=True)
class Declaration:
    """One customs declaration row as written to `customs/declarations_YYYY-MM.csv`."""

    declaration_id: str
    declaration_date: str
    importer_name: str
    importer_inn: str
    exporter_name: str
    exporter_country: str
    origin_country: str
    dispatch_country: str
    commodity_code: str
    goods_description: str
    invoice_value: Decimal
    invoice_currency: str
    statistical_value_usd: Decimal
    net_weight_kg: Decimal
    quantity: Decimal
    quantity_unit: str

    @property
    def date(self) -> date:
        return date.fromisoformat(self.declaration_date)

    @property
    def month(self) -> str:
        return month_of(self.declaration_date)

    @property
    def hs6(self) -> str:
        return self.commodity_code[:6]

    @property
    def via_third_country(self) -> bool:
        return self.dispatch_country != self.origin_country

    def csv_row(self) -> list[str]:
        quantity = (
            f"{self.quantity:.0f}" if self.quantity_unit in _COUNT_UNITS else f"{self.quantity:.2f}"
        )
        return [
            self.declaration_id,
            self.declaration_date,
            self.importer_name,
            self.importer_inn,
            self.exporter_name,
            self.exporter_country,
            self.origin_country,
            self.dispatch_country,
            self.commodity_code,
            self.goods_description,
            fmt_decimal(self.invoice_value),
            self.invoice_currency,
            fmt_decimal(self.statistical_value_usd),
            fmt_decimal(self.net_weight_kg),
            quantity,
            self.quantity_unit,
        ]


@dataclass(frozen=True)
class PlantedShipment(Declaration):
    """A planted Taiwan-origin CNC shipment, with how the exporting side reports it.

    The origin country reports `mirror_fob_usd` in `mirror_period` with partner = dispatch
    country; when dispatch differs from origin, the dispatch country also reports the same value
    and period as an export to RU.
    """

    role: str  # "cnc_importer" or "sanctioned_counterparty"
    mirror_period: str
    mirror_fob_usd: Decimal


@dataclass(frozen=True)
class Company:
    """A Russian company: one row of `tax/company_registry.csv` plus how it appears in customs."""

    inn: str
    ogrn: str
    kpp: str
    name_ru: str
    name_short_ru: str
    latin_forms: tuple[str, ...]  # declared Latin names; the first is the usual one
    okved: str
    region_code: str
    status: str
    registered_on: str
    role: str
    sector: str
    first_month: str = MONTHS[0]
    last_month: str = MONTHS[-1]

    @property
    def name(self) -> str:
        return self.latin_forms[0]


@dataclass(frozen=True)
class SanctionedEntity:
    """The real OFAC SDN entry the demo points at (name and identifiers as published)."""

    name: str
    inn: str
    ogrn: str
    ofac_ent_num: int
    listed_from: str
    program: str
    declared_name: str  # how it appears in the synthetic customs rows
    name_ru: str
    name_short_ru: str


@dataclass(frozen=True)
class SalesInvoice:
    invoice_id: str
    invoice_date: str
    seller_inn: str
    buyer_inn: str
    amount_rub: Decimal
    buyer_kind: str  # "defence", "sanctioned" or "civilian" (not written to the file)

    def csv_row(self) -> list[str]:
        return [
            self.invoice_id,
            self.invoice_date,
            self.seller_inn,
            self.buyer_inn,
            fmt_decimal(self.amount_rub),
        ]


@dataclass(frozen=True)
class DefenceRegisterEntry:
    inn: str
    name_ru: str
    register: str
    included_on: str


@dataclass(frozen=True)
class MalformedRow:
    """An extra customs row that must be quarantined; `values` is the row exactly as written."""

    declaration_id: str
    month: str
    defect: str
    column: str
    note: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class InvalidInnImporter:
    """A background importer whose declarations carry an INN with a wrong check digit."""

    name: str
    declared_inn: str
    registered_inn: str
    note: str


DEFECTS: tuple[str, ...] = (
    "bad_date", "bad_value", "negative_value", "missing_id", "unknown_country",
    "bad_commodity_code", "duplicate_id", "missing_inn",
)  # fmt: skip


# ----------------------------------------------------------------------------- planted entities

SANCTIONED_COUNTERPARTY = SanctionedEntity(
    name="LIMITED LIABILITY COMPANY INVEST STANKO",
    inn="5047120398",
    ogrn="1105047013752",  # from the SDN remarks ("Registration Number")
    ofac_ent_num=47497,
    listed_from=LISTING_DATE,
    program="RUSSIA-EO14024",
    declared_name="LLC INVEST STANKO",
    name_ru=f'{names.LLC_FULL} "ИНВЕСТ СТАНКО"',
    name_short_ru='ООО "ИНВЕСТ СТАНКО"',
)

CNC_IMPORTER = Company(
    inn="7727419380",
    ogrn="1227727470123",
    kpp="772701001",
    name_ru=f'{names.LLC_FULL} "ДОРВИКС-ТЕХ"',
    name_short_ru='ООО "ДОРВИКС-ТЕХ"',
    latin_forms=('OOO "DORVIKS-TEKH"', "LLC DORVIKS-TEKH", "DORVIKS-TECH LLC"),
    okved="46.62",
    region_code="77",
    status="active",
    registered_on="2022-07-14",
    role="cnc_importer",
    sector="machine_tools",
    first_month="2022-07",
)

DECOY = Company(
    inn="6658312401",
    ogrn="1166658054210",
    kpp="665801001",
    name_ru=f'{names.LLC_FULL} "ИНВЕСТСТАНКО"',
    name_short_ru='ООО "ИНВЕСТСТАНКО"',
    latin_forms=('OOO "INVESTSTANKO"', "INVEST-STANKO LLC", "LLC INVESTSTANKO"),
    okved="46.69",
    region_code="66",
    status="active",
    registered_on="2016-05-19",
    role="decoy",
    sector="tools",
)

# Registry row of the real counterparty. INN and OGRN are real; the rest is a synthetic
# placeholder (KPP derived from the INN, region from the OGRN, a 1 January date in the OGRN year).
COUNTERPARTY_COMPANY = Company(
    inn=SANCTIONED_COUNTERPARTY.inn,
    ogrn=SANCTIONED_COUNTERPARTY.ogrn,
    kpp="504701001",
    name_ru=SANCTIONED_COUNTERPARTY.name_ru,
    name_short_ru=SANCTIONED_COUNTERPARTY.name_short_ru,
    latin_forms=(SANCTIONED_COUNTERPARTY.declared_name,),
    okved="46.62",
    region_code="50",
    status="active",
    registered_on="2010-01-01",
    role="sanctioned_counterparty",
    sector="machine_tools",
)

TW_EXPORTERS: tuple[str, ...] = (
    "Hsinlung Precision Machinery Co., Ltd.",
    "Kaochuan Machine Tool Co., Ltd.",
    "Tienfeng CNC Technology Co., Ltd.",
    "Meiwen Precision Industrial Co., Ltd.",
    "Yuhsiang Spindle Works Co., Ltd.",
    "Chiahui Machine Industrial Co., Ltd.",
)
TRANSIT_EXPORTERS: dict[str, tuple[str, ...]] = {
    "TR": (
        "Ceyhankaya Makina Dis Ticaret Ltd. Sti.",
        "Bogaztek Endustriyel Urunler Sanayi ve Ticaret A.S.",
    ),
    "CN": (
        "Urumqi Lianzhan Import & Export Co., Ltd.",
        "Jinan Baoxiang Machinery Trading Co., Ltd.",
    ),
}

# TN VED 10-digit codes used for the planted CNC shipments, with declared descriptions.
CNC_GOODS: dict[str, tuple[tuple[str, str], ...]] = {
    "845710": (
        ("8457101000", "CNC horizontal machining centre for metal, 4-axis, with tool changer"),
        ("8457109000", "CNC vertical machining centre for metal, 5-axis, with tool changer"),
    ),
    "845811": (
        ("8458112000", "CNC horizontal turning centre for metal, with driven tools"),
        ("8458114100", "CNC horizontal lathe for metal, single-spindle"),
    ),
    "845891": (
        ("8458912000", "CNC vertical turning centre for metal"),
        ("8458918000", "CNC vertical lathe for metal, twin-column"),
    ),
    "845961": (
        ("8459611000", "CNC tool milling machine for metal"),
        ("8459619000", "CNC bed-type milling machine for metal, 3-axis"),
    ),
    "846693": (
        ("8466934000", "Spindle units for CNC machining centres"),
        ("8466935000", "Automatic tool changers and ball screws for CNC machine tools"),
        ("8466936000", "Parts of CNC lathes: turrets, tailstocks, chucks"),
    ),
}
# (count, unit price range in USD, net kg per piece) per HS-6 for the CNC importer.
_CNC_MIX: dict[str, tuple[int, tuple[int, int], tuple[int, int]]] = {
    "845710": (20, (260_000, 640_000), (5_200, 13_500)),
    "845811": (14, (120_000, 380_000), (3_100, 8_400)),
    "845891": (6, (190_000, 520_000), (6_800, 15_000)),
    "845961": (11, (150_000, 430_000), (3_800, 9_600)),
    "846693": (10, (14_000, 78_000), (120, 1_400)),
}
CNC_IMPORTER_TARGET_USD = Decimal("20000000")

# Windows of the CNC importer's 61 shipments: (first day, last day, direct, via TR, via CN).
_CNC_WINDOWS: tuple[tuple[str, str, int, int, int], ...] = (
    ("2023-01-09", "2023-12-27", 30, 0, 0),
    ("2024-01-09", "2024-01-24", 3, 0, 0),
    ("2024-01-26", "2024-03-07", 2, 3, 0),
    ("2024-03-09", "2024-12-20", 16, 3, 4),
)
# The counterparty's own imports: (date, hs6, dispatch country).
_COUNTERPARTY_SHIPMENTS: tuple[tuple[str, str, str], ...] = (
    ("2023-06-14", "845710", "TW"),
    ("2023-10-04", "845811", "TW"),
    ("2024-02-09", "845710", "TW"),
    ("2024-04-17", "845961", "TW"),
    ("2024-08-06", "845710", "CN"),
    ("2024-11-12", "846693", "TW"),
)

# Customs posts (8-digit codes) by route.
POSTS: dict[str, tuple[str, ...]] = {
    "far_east": ("10702070", "10702030", "10714040", "10716050", "10719110"),
    "west": ("10216170", "10216100", "10012020", "10013160", "10005030", "10129010"),
    "south": ("10317090", "10317120", "10309200"),
    "eaeu": ("10504050", "10511010", "10418010", "10610050"),
}


def post_region(dispatch_country: str) -> str:
    if dispatch_country in ("CN", "HK", "JP", "KR", "TW", "VN", "MY", "TH", "ID", "MN"):
        return "far_east"
    if dispatch_country in ("TR", "AE", "EG", "MA", "EC", "BR", "IR", "AZ", "GE"):
        return "south"
    if dispatch_country in ("KZ", "BY", "KG", "AM", "UZ"):
        return "eaeu"
    return "west"


def declaration_id(post: str, day: str, serial: int) -> str:
    d = date.fromisoformat(day)
    return f"{post}/{d:%d%m%y}/{serial:07d}"


def _random_day(rng: random.Random, first: str, last: str) -> str:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    while True:
        day = (start + timedelta(days=rng.randrange((end - start).days + 1))).isoformat()
        if day not in BOUNDARY_DATES:
            return day


def _fixed_id(rng: random.Random, post: str, day: str) -> str:
    # Serials 9xxxxxx are kept for fixed records; the generator's background uses 0..8999999.
    return declaration_id(post, day, 9_000_000 + rng.randrange(1_000_000))


def _mirror(rng: random.Random, month: str, stat_usd: Decimal) -> tuple[str, Decimal]:
    factor = Decimal(rng.randint(930, 970)) / Decimal(1000)
    lagged = rng.random() < 0.10 and month != MONTHS[0]
    period = MONTHS[MONTHS.index(month) - 1] if lagged else month
    return period, money(stat_usd * factor)


@cache
def _planted_cnc() -> tuple[PlantedShipment, ...]:
    rng = random.Random(47497)
    codes = [hs6 for hs6, (count, _, _) in _CNC_MIX.items() for _ in range(count)]
    rng.shuffle(codes)
    slots: list[tuple[str, str]] = []  # (day, dispatch)
    for first, last, direct, via_tr, via_cn in _CNC_WINDOWS:
        routes = ["TW"] * direct + ["TR"] * via_tr + ["CN"] * via_cn
        slots += [(_random_day(rng, first, last), route) for route in routes]
    slots.sort()
    assert len(slots) == len(codes) == 61

    drafts = []
    for (day, dispatch), hs6 in zip(slots, codes, strict=True):
        _, (lo, hi), (kg_lo, kg_hi) = _CNC_MIX[hs6]
        pieces = 2 if hs6 != "846693" and rng.random() < 0.15 else 1
        if hs6 == "846693":
            pieces = rng.randint(4, 24)
        usd = Decimal(rng.randint(lo, hi)) * (pieces if hs6 != "846693" else 1)
        kg = Decimal(rng.randint(kg_lo, kg_hi)) * (pieces if hs6 != "846693" else 1)
        drafts.append((day, dispatch, hs6, pieces, usd, kg))
    scale = CNC_IMPORTER_TARGET_USD / sum((d[4] for d in drafts), Decimal(0))

    shipments = []
    for day, dispatch, hs6, pieces, usd, kg in drafts:
        month = month_of(day)
        code, description = rng.choice(CNC_GOODS[hs6])
        if dispatch == "TW":
            exporter, exporter_country = rng.choice(TW_EXPORTERS[:5]), "TW"
            currency = rng.choices(("USD", "EUR", "TWD"), (8, 1, 1))[0]
            post = rng.choice(POSTS["far_east"] + POSTS["west"][:2])
        else:
            exporter, exporter_country = rng.choice(TRANSIT_EXPORTERS[dispatch]), dispatch
            currency = rng.choice(("USD", "EUR")) if dispatch == "TR" else "CNY"
            post = rng.choice(POSTS["south"] if dispatch == "TR" else POSTS["far_east"])
        invoice = from_usd(money(usd * scale), currency, month)
        stat = to_usd(invoice, currency, month)
        period, fob = _mirror(rng, month, stat)
        quantity = Decimal(pieces) if hs6 != "846693" else kg
        shipments.append(
            PlantedShipment(
                declaration_id=_fixed_id(rng, post, day),
                declaration_date=day,
                importer_name=rng.choices(CNC_IMPORTER.latin_forms, (8, 1, 1))[0],
                importer_inn=CNC_IMPORTER.inn,
                exporter_name=exporter,
                exporter_country=exporter_country,
                origin_country="TW",
                dispatch_country=dispatch,
                commodity_code=code,
                goods_description=description,
                invoice_value=invoice,
                invoice_currency=currency,
                statistical_value_usd=stat,
                net_weight_kg=Decimal(kg),
                quantity=quantity,
                quantity_unit="pcs" if hs6 != "846693" else "kg",
                role="cnc_importer",
                mirror_period=period,
                mirror_fob_usd=fob,
            )
        )

    for day, hs6, dispatch in _COUNTERPARTY_SHIPMENTS:
        month = month_of(day)
        _, (lo, hi), (kg_lo, kg_hi) = _CNC_MIX[hs6]
        code, description = rng.choice(CNC_GOODS[hs6])
        if dispatch == "TW":
            exporter = rng.choice((TW_EXPORTERS[1], TW_EXPORTERS[5]))
            currency, post = "USD", rng.choice(POSTS["west"][:2])
        else:
            exporter, currency = TRANSIT_EXPORTERS["CN"][1], "CNY"
            post = rng.choice(POSTS["far_east"])
        pieces = rng.randint(6, 18) if hs6 == "846693" else 1
        kg = Decimal(rng.randint(kg_lo, kg_hi))
        invoice = from_usd(Decimal(rng.randint(lo, hi)), currency, month)
        stat = to_usd(invoice, currency, month)
        period, fob = _mirror(rng, month, stat)
        shipments.append(
            PlantedShipment(
                declaration_id=_fixed_id(rng, post, day),
                declaration_date=day,
                importer_name=SANCTIONED_COUNTERPARTY.declared_name,
                importer_inn=SANCTIONED_COUNTERPARTY.inn,
                exporter_name=exporter,
                exporter_country=dispatch,
                origin_country="TW",
                dispatch_country=dispatch,
                commodity_code=code,
                goods_description=description,
                invoice_value=invoice,
                invoice_currency=currency,
                statistical_value_usd=stat,
                net_weight_kg=kg,
                quantity=kg if hs6 == "846693" else Decimal(pieces),
                quantity_unit="kg" if hs6 == "846693" else "pcs",
                role="sanctioned_counterparty",
                mirror_period=period,
                mirror_fob_usd=fob,
            )
        )
    return tuple(shipments)


def planted_cnc_shipments() -> list[PlantedShipment]:
    """Every Taiwan-origin tier-4B declaration in the data: 61 of the CNC importer, 6 of the
    sanctioned counterparty. Background rows never combine origin TW with a CNC_HS6 code."""
    return list(_planted_cnc())


def _simple_declaration(
    rng: random.Random,
    *,
    day: str,
    importer: str,
    inn: str,
    exporter: str,
    origin: str,
    dispatch: str,
    code: str,
    description: str,
    usd: int,
    currency: str,
    kg: int,
    quantity: Decimal,
    unit: str,
) -> Declaration:
    month = month_of(day)
    invoice = from_usd(Decimal(usd), currency, month)
    return Declaration(
        declaration_id=_fixed_id(rng, rng.choice(POSTS[post_region(dispatch)]), day),
        declaration_date=day,
        importer_name=importer,
        importer_inn=inn,
        exporter_name=exporter,
        exporter_country=dispatch,
        origin_country=origin,
        dispatch_country=dispatch,
        commodity_code=code,
        goods_description=description,
        invoice_value=invoice,
        invoice_currency=currency,
        statistical_value_usd=to_usd(invoice, currency, month),
        net_weight_kg=Decimal(kg),
        quantity=quantity,
        quantity_unit=unit,
    )


_DECOY_GOODS: tuple[tuple[str, str, str], ...] = (
    ("8207501000", "Drilling tools with working part of cemented carbide", "pcs"),
    ("8207701000", "Milling cutters with working part of cemented carbide", "pcs"),
    ("8207801100", "Turning tools (inserts) of cemented carbide", "pcs"),
    ("3403198000", "Cutting fluid concentrate for metalworking", "kg"),
    ("8466209800", "Work holders for machine tools: vices and clamping fixtures", "pcs"),
)
_DECOY_SUPPLIERS: tuple[tuple[str, str], ...] = (
    ("Wuxi Taixin Tools Co., Ltd.", "CN"),
    ("Changzhou Taixiang Cutting Tools Co., Ltd.", "CN"),
    ("Castelorba Utensili S.r.l.", "IT"),
    ("Kartaltas Kesici Takim Dis Ticaret Ltd. Sti.", "TR"),
    ("Kaverideep Tools Pvt. Ltd.", "IN"),
)


# The CNC importer's only non-CNC imports: (day, exporter, origin, code, description, USD,
# currency, kg, quantity, unit).
_CNC_OTHER: tuple[tuple[str, str, str, str, str, int, str, int, int, str], ...] = (
    ("2023-04-18", TW_EXPORTERS[4], "TW", "8207701000",
     "Carbide end mills for CNC machining centres", 61_250, "USD", 140, 2_400, "pcs"),
    ("2023-09-05", "Jinan Tongming Lubricants Co., Ltd.", "CN", "3403198000",
     "Cutting fluid concentrate for metalworking", 48_900, "CNY", 9_800, 9_800, "kg"),
    ("2024-06-11", "Suzhou Xinmei Metrology Co., Ltd.", "CN", "9031803800",
     "Tool presetters and touch probes for machine tools", 72_400, "CNY", 420, 36, "pcs"),
)  # fmt: skip


@cache
def _planted_other() -> tuple[Declaration, ...]:
    rng = random.Random(5047)
    records = [
        _simple_declaration(
            rng,
            day=day,
            importer=CNC_IMPORTER.name,
            inn=CNC_IMPORTER.inn,
            exporter=exporter,
            origin=origin,
            dispatch=origin,
            code=code,
            description=description,
            usd=usd,
            currency=currency,
            kg=kg,
            quantity=Decimal(qty),
            unit=unit,
        )
        for day, exporter, origin, code, description, usd, currency, kg, qty, unit in _CNC_OTHER
    ]
    for _ in range(24):
        day = _random_day(rng, "2022-02-01", "2024-11-29")
        code, description, unit = rng.choice(_DECOY_GOODS)
        exporter, country = rng.choice(_DECOY_SUPPLIERS)
        currency = {"CN": "CNY", "IT": "EUR", "TR": "USD", "IN": "USD"}[country]
        kg = rng.randint(80, 2_400)
        records.append(
            _simple_declaration(
                rng,
                day=day,
                importer=rng.choices(DECOY.latin_forms, (6, 3, 1))[0],
                inn=DECOY.inn,
                exporter=exporter,
                origin=country,
                dispatch=country,
                code=code,
                description=description,
                usd=rng.randint(8_000, 90_000),
                currency=currency,
                kg=kg,
                quantity=Decimal(kg if unit == "kg" else rng.randint(20, 900)),
                unit=unit,
            )
        )
    return tuple(sorted(records, key=lambda r: (r.declaration_date, r.declaration_id)))


def planted_other_declarations() -> list[Declaration]:
    """The CNC importer's 3 small non-CNC imports and the decoy's 24 benign imports."""
    return list(_planted_other())


# ----------------------------------------------------------------------------- companies

_SECTOR_OKVED: dict[str, tuple[str, ...]] = {
    "electronics": ("46.52", "46.51", "26.12"),
    "machinery": ("46.69", "46.63", "28.99"),
    "vehicles": ("45.31", "45.11", "29.32"),
    "chemicals": ("46.75", "46.46", "20.59"),
    "food": ("46.31", "46.34", "46.37"),
    "apparel": ("46.42", "46.41"),
    "consumer": ("46.43", "46.47", "46.49"),
    "metals": ("46.72", "24.10"),
    "medical": ("46.46", "32.50"),
}
BACKGROUND_SECTORS: tuple[str, ...] = tuple(_SECTOR_OKVED)
_SECTOR_WEIGHTS = (16, 14, 12, 10, 10, 8, 12, 7, 6)
_DOMESTIC_OKVED = ("28.41", "28.22", "29.32", "33.12", "43.21", "25.62", "22.29", "46.69")
_REGIONS = tuple(names.TAX_OFFICES)
_REGION_WEIGHTS = (30, 14, 14, 6, 5, 4, 4, 6, 3, 4, 3, 5)
N_BACKGROUND_IMPORTERS = 300
N_DOMESTIC_BUYERS = 60
# Indexes (in background_importers()) whose declarations carry a mistyped INN.
_INVALID_INN_INDEXES = (41, 187)


def _company(
    rng: random.Random,
    taken: set[str],
    *,
    role: str,
    sector: str,
    okved: str,
    core: str | None = None,
    form: str = "LLC",
    region: str | None = None,
    first_year: int = 2003,
    last_year: int = 2021,
) -> Company:
    while True:
        name = names.RussianName(core or names.russian_core(rng), form)
        if name.core_ru not in taken:
            break
        core = None
    taken.add(name.core_ru)
    region = region or rng.choices(_REGIONS, _REGION_WEIGHTS)[0]
    inn = names.make_inn(rng, region)
    while inn in taken or inn == SANCTIONED_COUNTERPARTY.inn:
        inn = names.make_inn(rng, region)
    taken.add(inn)
    registered = date(rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28))
    return Company(
        inn=inn,
        ogrn=names.make_ogrn(rng, inn, registered.year),
        kpp=names.make_kpp(inn),
        name_ru=name.full_ru,
        name_short_ru=name.short_ru,
        latin_forms=name.latin_forms(),
        okved=okved,
        region_code=region,
        status="active",
        registered_on=registered.isoformat(),
        role=role,
        sector=sector,
    )


_DEFENCE: tuple[tuple[str, str, str, str, str], ...] = (
    # (short prefix, full prefix, quoted name, OKVED, region)
    ("НПП", "НАУЧНО-ПРОИЗВОДСТВЕННОЕ ПРЕДПРИЯТИЕ", "ЗЕНТАРИС", "26.51", "50"),
    ("НПО", "НАУЧНО-ПРОИЗВОДСТВЕННОЕ ОБЪЕДИНЕНИЕ", "КВАРТОН-М", "30.30", "77"),
    ("ЗАВОД", "ЗАВОД", "ВЕЛТОРИЯ", "25.40", "52"),
    ("КБ", "КОНСТРУКТОРСКОЕ БЮРО", "ТОРВАЛЬ", "30.30", "78"),
    ("НПЦ", "НАУЧНО-ПРОИЗВОДСТВЕННЫЙ ЦЕНТР", "ЛИНДОРАН", "26.30", "63"),
    ("ЗАВОД", "ЗАВОД", "СТАРНИКА", "30.11", "39"),
    ("НПП", "НАУЧНО-ПРОИЗВОДСТВЕННОЕ ПРЕДПРИЯТИЕ", "МИРЕНТА", "26.30", "54"),
    ("НПО", "НАУЧНО-ПРОИЗВОДСТВЕННОЕ ОБЪЕДИНЕНИЕ", "ХОЛМАРИТ", "30.40", "74"),
    ("ЗАВОД", "ЗАВОД", "ЭЛВИКОР", "25.62", "66"),
    ("КБ", "КОНСТРУКТОРСКОЕ БЮРО", "ОРИНАКС", "26.51", "16"),
)


@cache
def _universe() -> dict[str, tuple[Company, ...]]:
    rng = random.Random(1105047)
    taken: set[str] = {"ДОРВИКС-ТЕХ", "ИНВЕСТСТАНКО", "ИНВЕСТ СТАНКО", CNC_IMPORTER.inn, DECOY.inn}
    importers = []
    for index in range(N_BACKGROUND_IMPORTERS):
        sector = rng.choices(BACKGROUND_SECTORS, _SECTOR_WEIGHTS)[0]
        company = _company(
            rng,
            taken,
            role="background_importer",
            sector=sector,
            okved=rng.choice(_SECTOR_OKVED[sector]),
            form="JSC" if rng.random() < 0.12 else "LLC",
            last_year=2023,
        )
        first = (
            max(MONTHS.index(company.registered_on[:7]), 0) if company.registered_on > "2022" else 0
        )
        if index % 9 == 4:  # some start importing later
            first = max(first, rng.randrange(3, 24))
        last = len(MONTHS) - 1
        status = "active"
        if index % 23 == 7:  # a few stop and are liquidated
            last, status = rng.randrange(first + 6, len(MONTHS) - 2), "liquidated"
        importers.append(
            replace(company, first_month=MONTHS[first], last_month=MONTHS[last], status=status)
        )
    domestic = [
        _company(
            rng, taken, role="domestic_buyer", sector="domestic",
            okved=rng.choice(_DOMESTIC_OKVED), form="JSC" if rng.random() < 0.3 else "LLC",
        )
        for _ in range(N_DOMESTIC_BUYERS)
    ]  # fmt: skip
    civilian = [
        _company(rng, taken, role="civilian_buyer", sector="domestic", okved=okved)
        for okved in ("28.30", "29.32", "28.14", "28.25", "33.12")
    ]
    defence = []
    for short, full, quoted, okved, region in _DEFENCE:
        company = _company(
            rng, taken, role="defence", sector="defence", okved=okved, form="JSC",
            core=f"{short} {quoted}", region=region, first_year=2003, last_year=2015,
        )  # fmt: skip
        latin = names.transliterate(f"{short} {quoted}")
        defence.append(
            replace(
                company,
                name_ru=f'{names.JSC_FULL} "{full} "{quoted}"',
                name_short_ru=f'АО "{short} "{quoted}"',
                latin_forms=(f'AO "{latin}"', f"JSC {latin}", f"{latin} JSC"),
            )
        )
    return {
        "background_importers": tuple(importers),
        "domestic_buyers": tuple(domestic),
        "civilian_buyers": tuple(civilian),
        "defence": tuple(defence),
    }


def background_importers() -> list[Company]:
    """The ~300 background importers (registry rows; two declare a mistyped INN in customs)."""
    return list(_universe()["background_importers"])


def domestic_buyers() -> list[Company]:
    """Russian companies that only buy domestically (background sales invoices)."""
    return list(_universe()["domestic_buyers"])


def civilian_buyers() -> list[Company]:
    """The CNC importer's civilian customers (not in the defence register)."""
    return list(_universe()["civilian_buyers"])


def defence_companies() -> list[Company]:
    """Fictional defence-industry companies; all are in the defence register."""
    return list(_universe()["defence"])


def defence_register() -> list[DefenceRegisterEntry]:
    rng = random.Random(2015)
    entries = []
    for company in _universe()["defence"]:
        registered = date.fromisoformat(company.registered_on)
        included = max(registered + timedelta(days=rng.randint(200, 2_500)), date(2012, 1, 1))
        entries.append(
            DefenceRegisterEntry(
                inn=company.inn,
                name_ru=company.name_ru,
                register="OPK",
                included_on=min(included, date(2021, 12, 31)).isoformat(),
            )
        )
    return entries


def registry_companies() -> list[Company]:
    """Every row of tax/company_registry.csv, in file order."""
    u = _universe()
    return [
        CNC_IMPORTER,
        COUNTERPARTY_COMPANY,
        DECOY,
        *u["background_importers"],
        *u["civilian_buyers"],
        *u["defence"],
        *u["domestic_buyers"],
    ]


def invalid_inn_importers() -> list[InvalidInnImporter]:
    """Importers whose declarations carry a mistyped INN (check digit + 1). The rows are valid
    otherwise: they must be kept and flagged, not quarantined. The registry holds the real INN."""
    importers = _universe()["background_importers"]
    return [
        InvalidInnImporter(
            name=importers[i].name,
            declared_inn=names.corrupt_check_digit(importers[i].inn),
            registered_inn=importers[i].inn,
            note="check digit keyed one higher in every declaration of this importer",
        )
        for i in _INVALID_INN_INDEXES
    ]


# ----------------------------------------------------------------------------- sales and revenue


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` kopecks in `parts` positive random amounts that add up exactly."""
    weights = [rng.randint(40, 160) for _ in range(parts)]
    amounts = [total * w // sum(weights) for w in weights]
    amounts[-1] += total - sum(amounts)
    return amounts


# Invoices per year and buyer kind.
_INVOICE_COUNTS: dict[int, dict[str, int]] = {
    2023: {"defence": 58, "sanctioned": 5, "civilian": 9},
    2024: {"defence": 74, "sanctioned": 7, "civilian": 11},
}
_DEFENCE_BUYER_WEIGHTS = (22, 18, 14, 12, 10, 8, 6, 4)  # the first 8 defence companies buy


@cache
def _sales() -> tuple[SalesInvoice, ...]:
    rng = random.Random(86)
    rub_value: dict[int, Decimal] = {}
    for s in _planted_cnc():
        if s.role == "cnc_importer":
            rub_per_usd = Decimal(1) / fx_rate("RUB", s.month)
            cost = s.statistical_value_usd * rub_per_usd * CNC_IMPORTER_MARKUP
            rub_value[s.date.year] = rub_value.get(s.date.year, Decimal(0)) + cost
    defence = _universe()["defence"][:8]
    civilian = _universe()["civilian_buyers"]
    drafts: list[tuple[str, str, int, str]] = []
    for year, counts in _INVOICE_COUNTS.items():
        total = int(money(rub_value[year]) * 100)
        first, last = (f"{year}-02-01" if year == 2023 else f"{year}-01-10"), f"{year}-12-27"
        budgets = {k: int(Decimal(total) * CNC_SALES_SHARES[k]) for k in ("defence", "sanctioned")}
        budgets["civilian"] = total - budgets["defence"] - budgets["sanctioned"]
        for kind, count in counts.items():
            budget = budgets[kind]
            for amount in _split(rng, budget, count):
                if kind == "defence":
                    buyer = rng.choices(defence, _DEFENCE_BUYER_WEIGHTS)[0].inn
                elif kind == "civilian":
                    buyer = rng.choice(civilian).inn
                else:
                    buyer = SANCTIONED_COUNTERPARTY.inn
                drafts.append((_random_day(rng, first, last), buyer, amount, kind))
    drafts.sort()
    invoices = []
    sequence: dict[int, int] = {}
    for day, buyer, amount, kind in drafts:
        year = int(day[:4])
        sequence[year] = sequence.get(year, 0) + 1
        invoices.append(
            SalesInvoice(
                invoice_id=f"{CNC_IMPORTER.inn}-{year}-{sequence[year]:05d}",
                invoice_date=day,
                seller_inn=CNC_IMPORTER.inn,
                buyer_inn=buyer,
                amount_rub=Decimal(amount) / 100,
                buyer_kind=kind,
            )
        )
    return tuple(invoices)


def planted_sales_invoices() -> list[SalesInvoice]:
    """All sales invoices of the CNC importer (its only sales)."""
    return list(_sales())


def cnc_importer_revenue_thousand_rub() -> dict[int, int]:
    """Line 2110 by year = sum of the year's invoices / 1000, rounded half up to an integer."""
    totals = {year: Decimal(0) for year in YEARS}
    for invoice in _sales():
        totals[int(invoice.invoice_date[:4])] += invoice.amount_rub
    return {
        year: int((total / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        for year, total in totals.items()
    }


def cnc_importer_net_profit_thousand_rub() -> dict[int, int]:
    revenue = cnc_importer_revenue_thousand_rub()
    profit = {2022: CNC_IMPORTER_LOSS_2022_THOUSAND_RUB}
    for year, margin in CNC_IMPORTER_MARGIN.items():
        profit[year] = int((revenue[year] * margin).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return profit


# ----------------------------------------------------------------------------- malformed rows

_GOOD_FOR_DEFECTS: tuple[tuple[str, str, str, str, str, int, int, str], ...] = (
    # (code, description, origin, exporter, currency, usd, kg, unit)
    ("9403609000", "Wooden furniture for living rooms", "CN", "Foshan Meixin Home Co., Ltd.",
     "CNY", 18_400, 2_100, "pcs"),
    ("6109100000", "Men's T-shirts of cotton, knitted", "TR",
     "Egekaya Textile Dis Ticaret Ltd. Sti.", "USD", 26_750, 1_350, "pcs"),
    ("4011100003", "New pneumatic tyres for passenger cars", "CN",
     "Qingdao Haorui Auto Parts Co., Ltd.", "USD", 41_300, 9_200, "pcs"),
    ("3004900002", "Medicaments in measured doses for retail sale", "IN",
     "Narmadajyoti Chemical Pvt. Ltd.", "USD", 63_900, 820, "kg"),
    ("8418102001", "Household combined refrigerator-freezers", "TR",
     "Marmarasoy Home Sanayi ve Ticaret A.S.", "EUR", 54_200, 7_400, "pcs"),
)  # fmt: skip

# (month, defect, column, replacement, note); the defect replaces one value of a valid row.
_MALFORMED_PLAN: tuple[tuple[str, str, str, str, str], ...] = (
    ("2022-03", "bad_commodity_code", "commodity_code", "84717", "5 digits"),
    ("2022-05", "bad_value", "statistical_value_usd", "N/A", "not a number"),
    ("2022-08", "missing_id", "declaration_id", "", "empty"),
    ("2022-11", "negative_value", "statistical_value_usd", "-4810.00", "negative"),
    ("2022-12", "missing_inn", "importer_inn", "", "empty"),
    ("2023-02", "bad_date", "declaration_date", "2023-02-30", "30 February"),
    ("2023-03", "unknown_country", "origin_country", "XX", "not an ISO 3166 code"),
    ("2023-05", "duplicate_id", "declaration_id", "", "repeats an earlier row of the file"),
    ("2023-07", "bad_value", "statistical_value_usd", "1 250,00", "space and decimal comma"),
    ("2023-10", "bad_commodity_code", "commodity_code", "8542.31.900", "dotted, 9 digits"),
    ("2023-12", "bad_date", "declaration_date", "31/12/2023", "DD/MM/YYYY"),
    ("2024-02", "unknown_country", "dispatch_country", "XX", "not an ISO 3166 code"),
    ("2024-04", "negative_value", "statistical_value_usd", "-125.50", "negative"),
    ("2024-06", "bad_date", "declaration_date", "2024-06-31", "31 June"),
    ("2024-07", "missing_inn", "importer_inn", "", "empty"),
    ("2024-09", "missing_id", "declaration_id", "", "empty"),
    ("2024-10", "unknown_country", "exporter_country", "XX", "not an ISO 3166 code"),
    ("2024-11", "duplicate_id", "declaration_id", "", "repeats an earlier row of the file"),
)


@cache
def _malformed() -> tuple[tuple[Declaration, ...], tuple[MalformedRow, ...]]:
    rng = random.Random(2302)
    importers = [
        c
        for i, c in enumerate(_universe()["background_importers"])
        if i not in _INVALID_INN_INDEXES and c.status == "active" and c.first_month == MONTHS[0]
    ]
    originals: list[Declaration] = []
    rows: list[MalformedRow] = []
    for month, defect, column, replacement, note in _MALFORMED_PLAN:
        code, description, origin, exporter, currency, usd, kg, unit = rng.choice(_GOOD_FOR_DEFECTS)
        importer = rng.choice(importers)
        day = _random_day(rng, f"{month}-01", f"{month}-28")
        record = _simple_declaration(
            rng,
            day=day,
            importer=importer.name,
            inn=importer.inn,
            exporter=exporter,
            origin=origin,
            dispatch=origin,
            code=code,
            description=description,
            usd=usd + rng.randint(-3_000, 3_000),
            currency=currency,
            kg=kg,
            quantity=Decimal(kg if unit == "kg" else rng.randint(40, 600)),
            unit=unit,
        )
        values = record.csv_row()
        if defect == "duplicate_id":
            originals.append(record)
            # A resubmission: same id, a later date in the month and a corrected value.
            later = _random_day(rng, day, f"{month}-28")
            invoice = record.invoice_value + Decimal("137.00")
            values[1] = later
            values[10] = fmt_decimal(invoice)
            values[12] = fmt_decimal(to_usd(invoice, currency, month))
        else:
            values[CUSTOMS_COLUMNS.index(column)] = replacement
        rows.append(
            MalformedRow(
                declaration_id=values[0],
                month=month,
                defect=defect,
                column=column,
                note=note,
                values=tuple(values),
            )
        )
    return tuple(originals), tuple(rows)


def malformed_rows() -> list[MalformedRow]:
    """Extra customs rows with exactly one defect each; all must end in quarantine."""
    return list(_malformed()[1])


def duplicate_originals() -> list[Declaration]:
    """Valid rows whose id a later `duplicate_id` row repeats; these first rows are kept."""
    return list(_malformed()[0])


def fixed_declarations() -> list[Declaration]:
    """Every valid declaration the generator writes regardless of seed."""
    return [*_planted_cnc(), *_planted_other(), *duplicate_originals()]
