"""Write the synthetic demo bundle: `python -m demo.generate --out DIR [--seed N]`.

The planted records come from `demo.spec` and are the same for every seed; the seed drives only
the background noise. The same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from demo import names, spec
from demo.spec import MONTHS, Declaration, PlantedShipment

DEFAULT_OUT = Path(__file__).resolve().parent / "bundle"
BACKGROUND_ROWS_PER_MONTH = 1405
# Relative import volume by month (sanctions shock in spring 2022, then recovery).
_VOLUME = (
    *(1.10, 1.12, 0.62, 0.58, 0.70, 0.80, 0.86, 0.90, 0.93, 0.95, 0.97, 1.00),
    *(1.00, 1.01, 1.02, 1.02, 1.03, 1.03, 1.03, 1.04, 1.04, 1.04, 1.05, 1.05),
    *(1.04, 1.04, 1.05, 1.05, 1.05, 1.05, 1.06, 1.06, 1.06, 1.06, 1.07, 1.07),
)
TRADE_COLUMNS = (
    "reporter_country", "partner_country", "flow", "period", "hs6", "value_usd", "net_weight_kg",
)  # fmt: skip


@dataclass(frozen=True)
class Goods:
    """A background product line. Money in US cents, weight in grams, per unit of `unit`."""

    code: str
    description: str
    sector: str
    unit: str
    quantity: tuple[int, int]
    unit_cents: tuple[int, int]
    grams_per_unit: tuple[int, int]
    origins: tuple[tuple[str, int], ...]

    @property
    def hs6(self) -> str:
        return self.code[:6]


def _g(
    code: str,
    description: str,
    sector: str,
    unit: str,
    quantity: tuple[int, int],
    unit_cents: tuple[int, int],
    grams: tuple[int, int],
    origins: str,
) -> Goods:
    pairs = tuple((item.split(":")[0], int(item.split(":")[1])) for item in origins.split())
    return Goods(code, description, sector, unit, quantity, unit_cents, grams, pairs)


_KG = (1000, 1000)
CATALOGUE: tuple[Goods, ...] = (
    # electronics
    _g("8542319000", "Microcontrollers and processors, integrated circuits", "electronics", "pcs",
       (500, 40_000), (80, 4_500), (1, 5), "CN:35 TW:20 MY:15 KR:8 US:10 JP:6 VN:6"),
    _g("8542329000", "Memory integrated circuits (DRAM, NAND flash)", "electronics", "pcs",
       (500, 30_000), (60, 2_500), (1, 4), "KR:30 CN:30 TW:20 US:10 JP:10"),
    _g("8542399000", "Integrated circuits for power management and interfaces", "electronics",
       "pcs", (1_000, 50_000), (20, 900), (1, 3), "CN:40 TW:15 MY:15 US:10 JP:10 KR:10"),
    _g("8541290000", "Power transistors (MOSFET, IGBT), 1 W or more", "electronics", "pcs",
       (1_000, 50_000), (20, 900), (2, 12), "CN:50 JP:15 MY:15 DE:10 TW:10"),
    _g("8532240000", "Multilayer ceramic chip capacitors", "electronics", "kg",
       (5, 300), (8_000, 90_000), _KG, "CN:40 JP:25 KR:20 TW:15"),
    _g("8517620009", "Network switches and routers", "electronics", "pcs",
       (10, 800), (9_000, 450_000), (800, 6_000), "CN:70 TW:10 MY:10 US:10"),
    _g("8471500000", "Server and workstation processing units", "electronics", "pcs",
       (5, 300), (60_000, 900_000), (8_000, 25_000), "CN:60 TW:15 MY:10 US:15"),
    _g("8471300000", "Laptop computers", "electronics", "pcs",
       (50, 3_000), (30_000, 150_000), (1_300, 2_500), "CN:85 VN:15"),
    _g("8517130000", "Smartphones", "electronics", "pcs",
       (200, 10_000), (9_000, 90_000), (160, 240), "CN:70 VN:15 IN:10 KR:5"),
    _g("8528724000", "LED television receivers", "electronics", "pcs",
       (50, 2_000), (12_000, 90_000), (6_000, 25_000), "CN:60 KR:15 TR:10 BY:5 MY:10"),
    _g("8534001900", "Printed circuit boards, multilayer", "electronics", "pcs",
       (1_000, 50_000), (50, 3_000), (20, 200), "CN:60 TW:20 KR:10 TH:10"),
    _g("8504408400", "Static converters: power supplies and inverters", "electronics", "pcs",
       (50, 5_000), (1_500, 60_000), (300, 8_000), "CN:60 TW:10 DE:10 JP:10 KR:10"),
    _g("8473302008", "Parts of computers: motherboards and memory modules", "electronics", "pcs",
       (100, 5_000), (1_000, 30_000), (100, 800), "CN:50 TW:30 MY:10 VN:10"),
    _g("8525893000", "Digital video cameras for surveillance systems", "electronics", "pcs",
       (50, 3_000), (2_000, 40_000), (300, 1_500), "CN:90 KR:10"),
    # machinery
    _g("8482101009", "Ball bearings", "machinery", "pcs",
       (200, 20_000), (100, 4_000), (50, 2_000), "CN:45 IN:10 JP:10 DE:10 BY:10 KR:5 IT:5"),
    _g("8413708100", "Centrifugal pumps for liquids", "machinery", "pcs",
       (5, 300), (20_000, 500_000), (15_000, 400_000), "CN:40 IT:20 DE:20 TR:10 IN:10"),
    _g("8429521000", "Crawler excavators with 360-degree revolving superstructure", "machinery",
       "pcs", (1, 12), (6_000_000, 30_000_000), (5_000_000, 40_000_000), "CN:70 KR:15 JP:15"),
    _g("8431498009", "Parts of excavators and loaders", "machinery", "kg",
       (100, 20_000), (300, 2_500), _KG, "CN:60 KR:15 JP:10 DE:10 TR:5"),
    _g("8481808199", "Valves and taps for pipelines", "machinery", "pcs",
       (50, 5_000), (500, 80_000), (500, 40_000), "CN:45 IT:20 DE:15 TR:15 PL:5"),
    _g("8479899708", "Industrial machines with individual functions, n.e.s.", "machinery", "pcs",
       (1, 20), (500_000, 8_000_000), (200_000, 5_000_000), "CN:60 DE:15 IT:15 KR:10"),
    _g("8457109000", "CNC vertical machining centre for metal", "machinery", "pcs",
       (1, 4), (5_000_000, 25_000_000), (3_500_000, 9_000_000), "CN:90 DE:5 IT:5"),
    _g("8458114100", "CNC horizontal lathe for metal", "machinery", "pcs",
       (1, 4), (3_000_000, 15_000_000), (2_500_000, 7_000_000), "CN:85 KR:10 IT:5"),
    _g("8459619000", "CNC milling machine for metal", "machinery", "pcs",
       (1, 4), (3_000_000, 14_000_000), (3_000_000, 8_000_000), "CN:90 DE:10"),
    _g("8466936000", "Parts and accessories for metalworking machine tools", "machinery", "kg",
       (50, 3_000), (2_000, 15_000), _KG, "CN:60 DE:15 IT:15 JP:10"),
    _g("8460120000", "CNC flat-surface grinding machine for metal", "machinery", "pcs",
       (1, 3), (2_000_000, 9_000_000), (2_000_000, 6_000_000), "CN:70 TW:20 IT:10"),
    _g("8207701000", "Milling cutters with working part of cemented carbide", "machinery", "pcs",
       (100, 5_000), (500, 15_000), (50, 500), "CN:40 TW:20 DE:15 IN:10 KR:10 IT:5"),
    _g("8515310000", "Arc welding machines, fully or partly automatic", "machinery", "pcs",
       (5, 200), (30_000, 600_000), (20_000, 200_000), "CN:70 IT:10 DE:10 TR:10"),
    _g("8414808000", "Air compressors", "machinery", "pcs",
       (2, 100), (50_000, 2_000_000), (50_000, 2_000_000), "CN:50 IT:20 DE:15 TR:15"),
    _g("8501522000", "Three-phase AC electric motors, 0.75-75 kW", "machinery", "pcs",
       (10, 500), (15_000, 300_000), (10_000, 400_000), "CN:60 TR:15 DE:10 IT:10 IN:5"),
    _g("7318159008", "Steel screws and bolts", "machinery", "kg",
       (200, 20_000), (150, 900), _KG, "CN:50 TW:20 IN:15 TR:15"),
    _g("7318169100", "Steel nuts", "machinery", "kg",
       (200, 20_000), (150, 900), _KG, "CN:50 TW:20 IN:15 TR:15"),
    # vehicles
    _g("8703239094", "Passenger cars, petrol engine 1500-3000 cc", "vehicles", "pcs",
       (1, 40), (1_500_000, 6_000_000), (1_300_000, 1_900_000), "CN:60 JP:15 KR:15 DE:10"),
    _g("8708999709", "Parts and accessories of motor vehicles", "vehicles", "kg",
       (100, 15_000), (400, 3_000), _KG, "CN:50 DE:10 JP:10 KR:10 TR:15 BY:5"),
    _g("8708309109", "Brake pads and brake parts", "vehicles", "kg",
       (100, 8_000), (300, 1_500), _KG, "CN:60 TR:20 KR:10 IN:10"),
    _g("8409910008", "Parts for spark-ignition engines", "vehicles", "kg",
       (50, 5_000), (800, 4_000), _KG, "CN:50 JP:20 DE:15 KR:15"),
    _g("4011100003", "New pneumatic tyres for passenger cars", "vehicles", "pcs",
       (200, 5_000), (3_000, 15_000), (7_000, 11_000), "CN:50 TR:15 KR:10 BY:10 JP:5 IN:10"),
    _g("8704212000", "Diesel trucks, gross vehicle weight up to 5 t", "vehicles", "pcs",
       (1, 30), (1_500_000, 4_000_000), (1_800_000, 3_000_000), "CN:90 TR:10"),
    # chemicals
    _g("3004900002", "Medicaments in measured doses for retail sale", "chemicals", "kg",
       (50, 5_000), (2_000, 50_000), _KG,
       "DE:25 IN:20 IT:10 FR:10 CH:10 TR:10 CN:10 BY:5 NL:5"),
    _g("3901101000", "Polyethylene, specific gravity below 0.94, in primary forms", "chemicals",
       "kg", (10_000, 100_000), (90, 180), _KG, "CN:30 KR:25 AE:20 UZ:15 KZ:10"),
    _g("3403198000", "Lubricating and cutting-oil preparations", "chemicals", "kg",
       (500, 20_000), (200, 1_200), _KG, "DE:25 CN:30 IT:15 TR:15 KR:15"),
    _g("3208909101", "Paints and varnishes based on polymers", "chemicals", "kg",
       (500, 20_000), (300, 1_500), _KG, "DE:25 IT:20 TR:20 CN:20 FI:15"),
    _g("3304990000", "Skin-care cosmetic preparations", "chemicals", "kg",
       (100, 5_000), (1_000, 8_000), _KG, "KR:30 FR:20 IT:15 DE:10 CN:15 TR:10"),
    # food
    _g("0805102200", "Fresh oranges", "food", "kg",
       (15_000, 24_000), (60, 120), _KG, "TR:45 EG:40 MA:15"),
    _g("0803901000", "Fresh bananas", "food", "kg", (18_000, 22_000), (60, 100), _KG, "EC:100"),
    _g("0901110000", "Green coffee, not roasted", "food", "kg",
       (15_000, 20_000), (300, 600), _KG, "BR:40 VN:40 IN:20"),
    _g("2204214200", "Still wine in bottles of 2 l or less", "food", "l",
       (1_000, 15_000), (200, 1_500), (900, 1_300), "IT:35 FR:20 GE:30 AM:15"),
    _g("0808108000", "Fresh apples", "food", "kg",
       (15_000, 22_000), (50, 110), _KG, "TR:30 CN:20 AZ:25 RS:25"),
    _g("0702000007", "Fresh tomatoes", "food", "kg",
       (15_000, 21_000), (60, 150), _KG, "TR:50 AZ:30 UZ:20"),
    _g("1806909000", "Chocolate confectionery", "food", "kg",
       (1_000, 15_000), (300, 1_200), _KG, "DE:20 TR:30 BY:30 IT:20"),
    _g("0406908800", "Cheese", "food", "kg",
       (2_000, 18_000), (400, 1_500), _KG, "BY:70 AM:10 RS:20"),
    # apparel
    _g("6109100000", "Men's T-shirts of cotton, knitted", "apparel", "pcs",
       (1_000, 30_000), (150, 800), (120, 250), "CN:40 TR:25 UZ:15 BD:10 KG:10"),
    _g("6203423100", "Men's denim trousers of cotton", "apparel", "pcs",
       (500, 15_000), (500, 2_000), (500, 800), "CN:40 TR:20 BD:20 VN:10 UZ:10"),
    _g("6403999600", "Footwear with leather uppers", "apparel", "pair",
       (300, 8_000), (1_000, 6_000), (600, 1_200), "CN:50 VN:20 IT:10 TR:15 IN:5"),
    _g("6402999800", "Footwear with rubber or plastic uppers", "apparel", "pair",
       (500, 20_000), (200, 1_500), (300, 900), "CN:70 VN:30"),
    _g("5209420000", "Denim fabric of cotton", "apparel", "kg",
       (2_000, 20_000), (300, 800), _KG, "TR:35 CN:30 IN:20 PK:15"),
    # consumer goods
    _g("9503007500", "Plastic toys and construction sets", "consumer", "kg",
       (500, 8_000), (300, 1_500), _KG, "CN:95 TR:5"),
    _g("9403609000", "Wooden furniture for living rooms", "consumer", "pcs",
       (50, 800), (3_000, 40_000), (10_000, 60_000), "CN:50 BY:20 TR:15 IT:10 MY:5"),
    _g("8418102001", "Household combined refrigerator-freezers", "consumer", "pcs",
       (50, 600), (20_000, 90_000), (45_000, 90_000), "TR:30 CN:30 KR:20 BY:20"),
    _g("8450111900", "Fully-automatic household washing machines", "consumer", "pcs",
       (50, 600), (15_000, 60_000), (50_000, 80_000), "CN:45 TR:30 KR:25"),
    _g("3924100000", "Plastic tableware and kitchenware", "consumer", "kg",
       (500, 10_000), (200, 900), _KG, "CN:70 TR:30"),
    _g("8516608000", "Household electric ovens and cookers", "consumer", "pcs",
       (50, 1_500), (3_000, 40_000), (8_000, 45_000), "CN:60 TR:25 IT:15"),
    _g("8712007000", "Bicycles, not motorised", "consumer", "pcs",
       (50, 1_500), (5_000, 60_000), (10_000, 16_000), "CN:60 TW:25 VN:15"),
    _g("8714999000", "Bicycle parts", "consumer", "kg",
       (200, 5_000), (500, 3_000), _KG, "TW:40 CN:50 JP:10"),
    # metals
    _g("7308909809", "Steel structures and parts of structures", "metals", "kg",
       (5_000, 60_000), (120, 400), _KG, "CN:60 TR:40"),
    _g("7210490009", "Galvanised flat-rolled steel", "metals", "kg",
       (20_000, 120_000), (60, 120), _KG, "CN:50 KZ:30 TR:20"),
    _g("7606129900", "Aluminium alloy plates and sheets", "metals", "kg",
       (5_000, 40_000), (250, 600), _KG, "CN:70 KZ:15 TR:15"),
    _g("7408110000", "Refined copper wire", "metals", "kg",
       (5_000, 40_000), (700, 1_100), _KG, "KZ:50 UZ:30 CN:20"),
    # medical
    _g("9018908409", "Medical and surgical instruments and appliances", "medical", "pcs",
       (10, 2_000), (2_000, 300_000), (200, 20_000), "DE:30 US:20 CN:25 JP:10 KR:15"),
    _g("9018191000", "Patient monitoring and electro-diagnostic apparatus", "medical", "pcs",
       (2, 100), (200_000, 3_000_000), (3_000, 30_000), "DE:30 US:25 CN:20 KR:15 JP:10"),
    _g("9022140000", "Medical X-ray apparatus", "medical", "pcs",
       (1, 6), (3_000_000, 40_000_000), (300_000, 2_000_000), "DE:35 US:20 JP:15 KR:15 CN:15"),
    _g("3005100000", "Adhesive dressings and plasters", "medical", "kg",
       (500, 8_000), (500, 2_000), _KG, "CN:40 DE:20 TR:20 IN:20"),
)  # fmt: skip

# Origins whose direct shipments of controlled-type goods mostly stop after March 2022.
_WESTERN = ("DE", "IT", "FR", "NL", "PL", "CZ", "AT", "FI", "CH", "GB", "US", "JP", "KR")
_REROUTED_SECTORS = ("electronics", "machinery", "vehicles", "medical")
_HUBS = (("TR", 35), ("KZ", 20), ("AE", 20), ("AM", 10), ("KG", 10), ("HK", 5))
_EU = ("DE", "IT", "FR", "NL", "PL", "CZ", "AT", "FI")
_CURRENCIES: dict[str, tuple[tuple[str, int], ...]] = {
    "TW": (("USD", 85), ("TWD", 15)),
    "HK": (("USD", 80), ("HKD", 5), ("CNY", 15)),
    "TR": (("USD", 50), ("EUR", 30), ("TRY", 20)),
    "JP": (("JPY", 60), ("USD", 40)),
    "KR": (("USD", 60), ("KRW", 40)),
    "IN": (("USD", 60), ("INR", 40)),
    "KZ": (("RUB", 60), ("KZT", 20), ("USD", 20)),
    "BY": (("RUB", 70), ("BYN", 30)),
    "AM": (("RUB", 50), ("USD", 50)),
    "KG": (("RUB", 50), ("USD", 50)),
    "UZ": (("RUB", 50), ("USD", 50)),
    "AE": (("USD", 70), ("AED", 30)),
    "CH": (("CHF", 60), ("EUR", 40)),
    "GB": (("GBP", 50), ("USD", 50)),
    **{country: (("EUR", 85), ("USD", 15)) for country in _EU},
}
_SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "electronics": ("Electronics", "Technology", "Components"),
    "machinery": ("Machinery", "Industrial", "Equipment"),
    "vehicles": ("Auto Parts", "Motors"),
    "chemicals": ("Chemical", "Pharma"),
    "food": ("Foods", "Agro"),
    "apparel": ("Textile", "Garment"),
    "consumer": ("Home", "Trading"),
    "metals": ("Metal", "Steel"),
    "medical": ("Medical",),
    "hub": ("Trading", "Import & Export", "Logistics", "Supply Chain"),
}
_POOL_SIZE = {"CN": 12, "TR": 8, "HK": 8, "AE": 6, "KZ": 6, "DE": 6}

_COUNT_UNITS = ("pcs", "set", "pair")


def _kg(grams: int) -> Decimal:
    return (Decimal(grams) / 1000).quantize(spec.CENT, rounding=ROUND_HALF_UP)


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


class Background:
    """Seeded generator of background declarations, exporters and invoices."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_ids: set[str] = {d.declaration_id for d in spec.fixed_declarations()}
        self.used_names: set[str] = set(spec.TW_EXPORTERS)
        for group in spec.TRANSIT_EXPORTERS.values():
            self.used_names.update(group)
        self.pools: dict[tuple[str, str], list[str]] = {}
        self.supplier: dict[tuple[str, str, str], str] = {}
        self.invalid_inn = {i.registered_inn: i.declared_inn for i in spec.invalid_inn_importers()}
        rng = self.rng
        self.importers = spec.background_importers()
        ranks = list(range(len(self.importers)))
        rng.shuffle(ranks)
        self.weights = [1.0 / (rank + 4) for rank in ranks]
        by_sector: dict[str, list[Goods]] = {}
        for goods in CATALOGUE:
            by_sector.setdefault(goods.sector, []).append(goods)
        self.lines: list[tuple[list[Goods], list[int]]] = []
        for company in self.importers:
            own = by_sector[company.sector]
            lines = rng.sample(own, rng.randint(2, min(6, len(own))))
            if rng.random() < 0.25:
                other = by_sector[rng.choice(spec.BACKGROUND_SECTORS)]
                lines += [g for g in rng.sample(other, min(2, len(other))) if g not in lines]
            self.lines.append((lines, [rng.randint(1, 10) for _ in lines]))

    def exporter(self, importer_inn: str, country: str, sector: str) -> str:
        key = (importer_inn, country, sector)
        if key in self.supplier and self.rng.random() < 0.85:
            return self.supplier[key]
        pool = self.pools.setdefault((country, sector), [])
        if len(pool) < _POOL_SIZE.get(country, 4):
            while True:
                word = self.rng.choice(_SECTOR_WORDS[sector])
                name = names.foreign_company(self.rng, country, word)
                if name not in self.used_names:
                    break
            self.used_names.add(name)
            pool.append(name)
            choice = name
        else:
            choice = self.rng.choice(pool)
        self.supplier[key] = choice
        return choice

    def route(self, goods: Goods, origin: str, month_index: int) -> tuple[str, bool]:
        """(dispatch country, whether the exporter is a hub trader)."""
        r = self.rng.random()
        if goods.sector == "electronics" and origin == "TW" and r < 0.5:
            return "HK", True
        if goods.sector == "electronics" and origin == "CN" and r < 0.15:
            return "HK", True
        western = origin in _WESTERN and goods.sector in _REROUTED_SECTORS
        if western and month_index >= 3 and r < 0.7:
            return _weighted(self.rng, _HUBS), True
        return origin, False

    def currency(self, exporter_country: str, month_index: int) -> str:
        if exporter_country == "CN":
            return "CNY" if self.rng.random() < 0.3 + 0.5 * month_index / 35 else "USD"
        return _weighted(self.rng, _CURRENCIES.get(exporter_country, (("USD", 1),)))

    def new_id(self, dispatch: str, day: str) -> str:
        post = self.rng.choice(spec.POSTS[spec.post_region(dispatch)])
        while True:
            candidate = spec.declaration_id(post, day, self.rng.randrange(9_000_000))
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def month_rows(self, month_index: int) -> list[Declaration]:
        rng = self.rng
        month = MONTHS[month_index]
        count = round(BACKGROUND_ROWS_PER_MONTH * _VOLUME[month_index] * rng.uniform(0.95, 1.05))
        active = [i for i, c in enumerate(self.importers) if c.first_month <= month <= c.last_month]
        chosen = rng.choices(active, [self.weights[i] for i in active], k=count)
        days = _days_in_month(month)
        rows = []
        for i in chosen:
            company = self.importers[i]
            lines, weights = self.lines[i]
            goods = rng.choices(lines, weights)[0]
            origin = _weighted(rng, goods.origins)
            if origin == "TW" and goods.hs6 in spec.CNC_HS6:
                raise AssertionError("background must not contain Taiwan-origin CNC")
            dispatch, hub = self.route(goods, origin, month_index)
            exporter = self.exporter(company.inn, dispatch, "hub" if hub else goods.sector)
            lo, hi = goods.quantity
            if goods.unit in _COUNT_UNITS:
                hundredths = rng.randint(lo, hi) * 100
            else:
                hundredths = rng.randint(lo * 100, hi * 100)
            usd_cents = hundredths * rng.randint(*goods.unit_cents) // 100
            grams = hundredths * rng.randint(*goods.grams_per_unit) // 100
            currency = self.currency(dispatch, month_index)
            invoice = spec.from_usd(Decimal(max(usd_cents, 100)) / 100, currency, month)
            day = f"{month}-{rng.randint(1, days):02d}"
            declared_name = company.name
            if rng.random() < 0.15:
                declared_name = rng.choice(company.latin_forms[1:])
            rows.append(
                Declaration(
                    declaration_id=self.new_id(dispatch, day),
                    declaration_date=day,
                    importer_name=declared_name,
                    importer_inn=self.invalid_inn.get(company.inn, company.inn),
                    exporter_name=exporter,
                    exporter_country=dispatch,
                    origin_country=origin,
                    dispatch_country=dispatch,
                    commodity_code=goods.code,
                    goods_description=goods.description,
                    invoice_value=invoice,
                    invoice_currency=currency,
                    statistical_value_usd=spec.to_usd(invoice, currency, month),
                    net_weight_kg=_kg(max(grams, 10)),
                    quantity=Decimal(hundredths) / 100,
                    quantity_unit=goods.unit,
                )
            )
        return rows


def _days_in_month(month: str) -> int:
    year, number = int(month[:4]), int(month[5:])
    if number == 2:
        return 29 if year % 4 == 0 else 28
    return 30 if number in (4, 6, 9, 11) else 31


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _place_malformed(
    rng: random.Random, rows: list[list[str]], malformed: list[spec.MalformedRow]
) -> list[list[str]]:
    for bad in malformed:
        first = 0
        if bad.defect == "duplicate_id":
            first = next(i for i, r in enumerate(rows) if r[0] == bad.declaration_id) + 1
        rows.insert(rng.randint(first, len(rows)), list(bad.values))
    return rows


def _trade_hops(rng: random.Random, row: Declaration) -> list[tuple[str, str, str, int, int]]:
    """(period, reporter, partner, value cents, weight in 1/100 kg) as exporters report it."""
    if isinstance(row, PlantedShipment):
        period, fob = row.mirror_period, row.mirror_fob_usd
    else:
        factor = Decimal(rng.randint(930, 970)) / 1000
        index = MONTHS.index(row.month)
        period = MONTHS[index - 1] if index > 0 and rng.random() < 0.10 else row.month
        fob = spec.money(row.statistical_value_usd * factor)
    cents, weight = int(fob * 100), int(row.net_weight_kg * 100)
    if row.origin_country == row.dispatch_country:
        return [(period, row.origin_country, spec.IMPORTER_COUNTRY, cents, weight)]
    return [
        (period, row.origin_country, row.dispatch_country, cents, weight),
        (period, row.dispatch_country, spec.IMPORTER_COUNTRY, cents, weight),
    ]


def _money_text(hundredths: int) -> str:
    return f"{Decimal(hundredths) / 100:.2f}"


def _financials(rng: random.Random, imports_rub: dict[tuple[str, int], Decimal]) -> list[list[str]]:
    rows: list[list[str]] = []
    revenue = spec.cnc_importer_revenue_thousand_rub()
    profit = spec.cnc_importer_net_profit_thousand_rub()
    for company in spec.registry_companies():
        if company.role == "sanctioned_counterparty":
            continue  # no invented accounts for the real company
        scale = {"defence": (2_000_000, 40_000_000), "civilian_buyer": (200_000, 5_000_000)}.get(
            company.role, (50_000, 3_000_000)
        )
        base = Decimal(rng.randint(*scale))
        for year in spec.YEARS:
            if int(company.registered_on[:4]) > year or int(company.last_month[:4]) < year:
                continue
            if company.role == "cnc_importer":
                values = (revenue[year], profit[year])
            else:
                imported = imports_rub.get((company.inn, year), Decimal(0)) / 1000
                if company.role in ("background_importer", "decoy"):
                    income = imported * Decimal(rng.randint(115, 160)) / 100
                    income += Decimal(rng.randint(2_000, 60_000))
                else:
                    income = base * Decimal(rng.randint(90, 125)) / 100
                margin = Decimal(rng.randint(-30, 90)) / 1000
                values = (
                    int(income.to_integral_value()),
                    int((income * margin).to_integral_value()),
                )
            rows.append([company.inn, str(year), "2110", str(values[0])])
            rows.append([company.inn, str(year), "2400", str(values[1])])
    return rows


def _background_invoices(rng: random.Random) -> list[spec.SalesInvoice]:
    sellers = [c for c in spec.background_importers() if c.sector != "food"]
    sellers = [*rng.sample(sellers, 120), spec.DECOY]
    domestic = spec.domestic_buyers() + spec.civilian_buyers()
    defence = spec.defence_companies()
    drafts = []
    for seller in sellers:
        first, last = MONTHS.index(seller.first_month), MONTHS.index(seller.last_month)
        for _ in range(rng.randint(6, 36)):
            month = MONTHS[rng.randint(first, last)]
            day = f"{month}-{rng.randint(1, _days_in_month(month)):02d}"
            to_defence = seller is not spec.DECOY and rng.random() < 0.06
            buyer = rng.choice(defence if to_defence else domestic)
            amount = Decimal(rng.randint(5_000_000, 1_500_000_000)) / 100
            drafts.append(
                (day, seller.inn, buyer.inn, amount, "defence" if to_defence else "civilian")
            )
    drafts.sort()
    sequence: dict[tuple[str, str], int] = {}
    invoices = []
    for day, seller_inn, buyer_inn, amount, kind in drafts:
        key = (seller_inn, day[:4])
        sequence[key] = sequence.get(key, 0) + 1
        invoices.append(
            spec.SalesInvoice(
                invoice_id=f"{seller_inn}-{day[:4]}-{sequence[key]:05d}",
                invoice_date=day,
                seller_inn=seller_inn,
                buyer_inn=buyer_inn,
                amount_rub=amount,
                buyer_kind=kind,
            )
        )
    return invoices


def generate(out_dir: Path, seed: int = spec.DEFAULT_SEED) -> dict[str, Path]:
    """Write the bundle under `out_dir`; returns {relative path: path} of every file written."""
    background = Background(seed)
    rng = random.Random(seed * 7 + 1)
    written: dict[str, Path] = {}

    def write(relative: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
        written[relative] = _write_csv(out_dir / relative, header, rows)

    fixed_by_month: dict[str, list[Declaration]] = {}
    for record in spec.fixed_declarations():
        fixed_by_month.setdefault(record.month, []).append(record)
    malformed_by_month: dict[str, list[spec.MalformedRow]] = {}
    for bad in spec.malformed_rows():
        malformed_by_month.setdefault(bad.month, []).append(bad)

    trade: dict[tuple[str, str, str, str], list[int]] = {}
    imports_rub: dict[tuple[str, int], Decimal] = {}
    for index, month in enumerate(MONTHS):
        records = background.month_rows(index) + fixed_by_month.get(month, [])
        records.sort(key=lambda r: (r.declaration_date, r.declaration_id))
        rub_per_usd = 1 / spec.fx_rate("RUB", month)
        for record in records:
            for period, reporter, partner, cents, weight in _trade_hops(rng, record):
                cell = trade.setdefault((period, reporter, partner, record.hs6), [0, 0])
                cell[0] += cents
                cell[1] += weight
            key = (record.importer_inn, int(month[:4]))
            imports_rub[key] = imports_rub.get(key, Decimal(0)) + (
                record.statistical_value_usd * rub_per_usd
            )
        rows = _place_malformed(
            rng, [r.csv_row() for r in records], malformed_by_month.get(month, [])
        )
        write(f"customs/declarations_{month}.csv", spec.CUSTOMS_COLUMNS, rows)

    for month in MONTHS:
        cells = sorted((k, v) for k, v in trade.items() if k[0] == month)
        write(
            f"trade_statistics/exports_{month}.csv",
            TRADE_COLUMNS,
            (
                [reporter, partner, "X", period, hs6, _money_text(v[0]), _money_text(v[1])]
                for (period, reporter, partner, hs6), v in cells
            ),
        )

    for registered, declared in background.invalid_inn.items():
        for year in spec.YEARS:
            if (declared, year) in imports_rub:
                imports_rub[(registered, year)] = imports_rub.pop((declared, year))
    write(
        "tax/company_registry.csv",
        ("inn", "ogrn", "kpp", "name_ru", "name_short_ru", "okved", "region_code", "status",
         "registered_on"),
        (
            [c.inn, c.ogrn, c.kpp, c.name_ru, c.name_short_ru, c.okved, c.region_code, c.status,
             c.registered_on]
            for c in spec.registry_companies()
        ),
    )  # fmt: skip
    write(
        "tax/financial_statements.csv",
        ("inn", "year", "line_code", "value_thousand_rub"),
        _financials(rng, imports_rub),
    )
    invoices = spec.planted_sales_invoices() + _background_invoices(rng)
    invoices.sort(key=lambda i: (i.invoice_date, i.invoice_id))
    write(
        "tax/sales_invoices.csv",
        ("invoice_id", "invoice_date", "seller_inn", "buyer_inn", "amount_rub"),
        (i.csv_row() for i in invoices),
    )
    write(
        "tax/defence_register.csv",
        ("inn", "name_ru", "register", "included_on"),
        ([e.inn, e.name_ru, e.register, e.included_on] for e in spec.defence_register()),
    )
    write(
        "reference/fx_monthly.csv",
        ("currency", "month", "usd_per_unit", "source"),
        ([*row, "synthetic"] for row in spec.fx_rows()),
    )
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=spec.DEFAULT_SEED, help="background seed")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    written = generate(args.out, args.seed)
    elapsed = time.perf_counter() - started
    print(f"wrote {len(written)} files to {args.out} in {elapsed:.1f} s (seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
