"""Invented company names and valid-looking Russian identifiers for the synthetic demo data.

Names are built from made-up syllables, so any likeness to a real firm is coincidental.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

_TRANSLIT = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH",
    "З": "Z", "И": "I", "Й": "Y", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O",
    "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS",
    "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "YU",
    "Я": "YA",
}  # fmt: skip


def transliterate(text: str) -> str:
    """Upper-case Cyrillic to Latin, in the simple passport-style scheme customs brokers use."""
    return "".join(_TRANSLIT.get(char, char) for char in text.upper())


# Made-up Cyrillic syllables; combined they give names that are plausible but not words.
_RU_HEAD = (
    "АЛВ", "БЕРЕН", "ВЕЛТ", "КАРН", "ЛИНД", "НОРВ", "ФЕРН", "ЯРВ", "ЗАРВ", "ВИРН",
    "ТАЛВ", "МОРВ", "КЕЛВ", "САЛВ", "ЛЕВР", "БРАНТ", "КОРВ", "ГЕРВ", "ДАЛВ", "НЕРТ",
    "ОЛВ", "ПАРН", "СИРВ", "ТЕРН", "ХАРВ", "ЭРН", "ЮРВ", "ВАЛД", "КЕРН", "ТРАВ",
)  # fmt: skip
_RU_TAIL = (
    "ИКС", "ЕКС", "ОН", "АР", "ИС", "ЕН", "ОКС", "АН", "ИТ", "ЕЛ", "ОР", "ИЛ", "АЛ", "УС",
    "ЕНТ", "ИКА",
)  # fmt: skip
_RU_SUFFIX = (
    "", "", "", "", "-М", "-ТРЕЙД", "-СЕРВИС", "-ИМПОРТ", "-ЛОГИСТИК", "-СНАБ", "-ТЕХ",
    " ГРУПП", "-ЮГ", "-НОРД", "-СИБ", "-ПРОМ", " ПЛЮС", "-К",
)  # fmt: skip

LLC_FULL = "ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ"
JSC_FULL = "АКЦИОНЕРНОЕ ОБЩЕСТВО"


@dataclass(frozen=True)
class RussianName:
    """A Russian company name: the quoted core plus its legal form."""

    core_ru: str
    form: str  # "LLC" or "JSC"

    @property
    def full_ru(self) -> str:
        return f'{LLC_FULL if self.form == "LLC" else JSC_FULL} "{self.core_ru}"'

    @property
    def short_ru(self) -> str:
        return f'{"ООО" if self.form == "LLC" else "АО"} "{self.core_ru}"'

    @property
    def core_latin(self) -> str:
        return transliterate(self.core_ru)

    def latin_forms(self) -> tuple[str, ...]:
        """How a declarant may write the name in Latin script; the first is the usual one."""
        core = self.core_latin
        if self.form == "LLC":
            return (f'OOO "{core}"', f"LLC {core}", f"{core} LLC", f'LLC "{core}"', f"OOO {core}")
        return (f'AO "{core}"', f"JSC {core}", f"{core} JSC", f'JSC "{core}"', f"AO {core}")


def russian_core(rng: random.Random) -> str:
    return rng.choice(_RU_HEAD) + rng.choice(_RU_TAIL) + rng.choice(_RU_SUFFIX)


# ----------------------------------------------------------------------------- identifiers

# Region code -> tax office numbers (the first four digits of INN and KPP are region + office).
TAX_OFFICES: dict[str, tuple[str, ...]] = {
    "77": ("01", "02", "03", "05", "07", "10", "13", "14", "15", "17", "18", "19", "20", "22",
           "23", "24", "25", "26", "27", "28", "29", "30", "31", "33", "34", "35", "36"),
    "78": ("01", "02", "04", "05", "06", "07", "10", "13", "14", "16", "17", "19", "38", "39",
           "40", "41", "42"),
    "50": ("07", "09", "12", "17", "18", "24", "27", "29", "31", "32", "34", "36", "38", "39"),
    "66": ("58", "59", "60", "61", "70", "71", "72", "73", "83"),
    "16": ("44", "50", "55", "56", "57", "58", "59", "60"),
    "52": ("53", "56", "57", "59", "60", "61", "62"),
    "54": ("01", "02", "03", "04", "05", "06", "07"),
    "25": ("01", "02", "03", "04", "36", "37", "40"),
    "39": ("04", "05", "06", "07", "17", "25"),
    "74": ("47", "48", "49", "51", "52", "53"),
    "63": ("11", "12", "15", "16", "17", "19"),
    "23": ("08", "09", "10", "11", "12", "31"),
}  # fmt: skip


def make_inn(rng: random.Random, region: str) -> str:
    """A 10-digit organisation INN with a correct check digit."""
    body = region + rng.choice(TAX_OFFICES[region]) + f"{rng.randrange(100000):05d}"
    return body + ru_inn.calc_company_check_digit(body)


def corrupt_check_digit(inn: str) -> str:
    """The same INN with its check digit off by one: a typical keying error."""
    wrong = str((int(inn[-1]) + 1) % 10)
    assert not ru_inn.is_valid(inn[:-1] + wrong)
    return inn[:-1] + wrong


def make_ogrn(rng: random.Random, inn: str, registered_year: int) -> str:
    """A 13-digit OGRN (legal entity) for the INN's region and tax office and the year."""
    body = f"1{registered_year % 100:02d}{inn[:4]}{rng.randrange(100000):05d}"
    return body + ru_ogrn.calc_check_digit(body + "0")


def make_kpp(inn: str) -> str:
    """KPP of a head office registered at its own address: office code + 01 + 001."""
    return inn[:4] + "01001"


# ----------------------------------------------------------------------------- foreign firms

_CN_CITIES = (
    "Ningbo", "Shenzhen", "Dongguan", "Suzhou", "Xiamen", "Qingdao", "Foshan", "Wuxi",
    "Changzhou", "Yiwu", "Tianjin", "Hangzhou", "Jinan", "Zhuhai", "Harbin", "Urumqi",
)  # fmt: skip
_PINYIN = (
    "Hao", "Yun", "Rui", "Xin", "Jia", "Feng", "Long", "Tai", "Sheng", "Hong", "Kai", "Mei",
    "Yu", "Heng", "Bao", "Wei", "Qian", "Lian", "Zhan", "Cheng", "Tong", "Xiang", "Ming",
)  # fmt: skip
_WADE_GILES = (
    "Hsin", "Chuan", "Lung", "Feng", "Tai", "Kuo", "Chen", "Yu", "Chia", "Hsiang", "Ming",
    "Sheng", "Tsai", "Chung", "Kao", "Wen", "Hui", "Chin",
)  # fmt: skip
_HK_A = ("Wing", "Sun", "Fortune", "Grand", "Ever", "Golden", "Rich", "Bright", "Jade", "Star")
_HK_B = ("rise", "tech", "way", "field", "light", "link", "peak", "wave", "gate", "port")
_DE_A = ("Rhein", "Elb", "Isar", "Lahn", "Mosel", "Weser", "Neckar", "Spree", "Ems", "Saal")
_DE_B = ("feld", "tal", "berg", "stein", "hof", "au", "brück", "wald", "mark", "eck")
_IT_A = ("Val", "Monte", "Castel", "Borgo", "Porta", "Villa", "Colle", "Ponte")
_IT_B = ("brenta", "serio", "trebbia", "tanaro", "chiese", "mella", "sesia", "orba", "enza")
_TR_A = ("Kuzey", "Deniz", "Yildiz", "Ege", "Toros", "Bogaz", "Kartal", "Ceyhan", "Marmara")
_TR_B = ("kaya", "tas", "han", "tek", "soy", "er", "dag", "pinar", "ay")
_JP_A = ("Tsuru", "Hoshi", "Kawa", "Mori", "Yama", "Sakura", "Kiri", "Hana", "Nishi", "Asa")
_JP_B = ("mitsu", "gawa", "shima", "hara", "zaki", "moto", "kura", "ta")
_KR_A = ("Han", "Seo", "Mi", "Dae", "Jin", "Sung", "Woo", "Chang", "Hye")
_KR_B = ("bit", "won", "rae", "jin", "kwang", "san", "do", "il")
_EN_A = ("Blue", "Maple", "North", "Silver", "Cedar", "Granite", "Harbor", "Summit", "Prairie")
_EN_B = ("crest", "wood", "field", "gate", "line", "point", "ridge", "brook", "stone")
_IN_A = ("Shree", "Sai", "Vardhan", "Kaveri", "Narmada", "Sahyadri", "Tapti", "Indra", "Ganga")
_IN_B = ("nath", "deep", "jyoti", "vani", "kiran", "tej", "mala")
_SLAV_A = ("Bel", "Min", "Grod", "Vit", "Brest", "Gom", "Alma", "Kara", "Tur", "Sam", "Osh")
_SLAV_B = ("komplekt", "snab", "torg", "promservis", "tekhimpeks", "avtokom", "lain")
_AE_A = ("Al Noor", "Al Safa", "Crescent", "Dhow", "Saffron")

_SECTORS = (
    "Electronics", "Machinery", "Trading", "Import & Export", "Industrial", "Technology",
    "Components", "Supply", "Logistics", "Chemical", "Textile", "Foods", "Auto Parts",
)  # fmt: skip


def _pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return rng.choice(items)


def foreign_company(rng: random.Random, country: str, sector: str | None = None) -> str:
    """An invented exporter name in the style of `country`."""
    s = sector or _pick(rng, _SECTORS)
    if country == "CN":
        first, second = rng.sample(_PINYIN, 2)
        name = f"{first}{second.lower()}"
        return f"{_pick(rng, _CN_CITIES)} {name} {s} Co., Ltd."
    if country == "TW":
        first, second = rng.sample(_WADE_GILES, 2)
        return f"{first}{second.lower()} {s} Co., Ltd."
    if country == "HK":
        return f"{_pick(rng, _HK_A)}{_pick(rng, _HK_B)} {s} Limited"
    if country in ("DE", "AT", "CH"):
        legal = {"DE": "GmbH", "AT": "GmbH", "CH": "AG"}[country]
        de_sector = {"Electronics": "Elektronik", "Machinery": "Maschinenbau"}.get(s, "Handels")
        return f"{_pick(rng, _DE_A)}{_pick(rng, _DE_B)} {de_sector} {legal}"
    if country == "IT":
        return f"{_pick(rng, _IT_A)}{_pick(rng, _IT_B)} {s} S.r.l."
    if country == "TR":
        legal = rng.choice(("Dis Ticaret Ltd. Sti.", "Sanayi ve Ticaret A.S."))
        return f"{_pick(rng, _TR_A)}{_pick(rng, _TR_B)} {s} {legal}"
    if country == "JP":
        return f"{_pick(rng, _JP_A)}{_pick(rng, _JP_B)} {s} Co., Ltd."
    if country == "KR":
        return f"{_pick(rng, _KR_A)}{_pick(rng, _KR_B)} {s} Co., Ltd."
    if country == "IN":
        return f"{_pick(rng, _IN_A)}{_pick(rng, _IN_B)} {s} Pvt. Ltd."
    if country in ("KZ", "KG", "UZ"):
        return f'TOO "{_pick(rng, _SLAV_A)}{_pick(rng, _SLAV_B)} {country}"'
    if country in ("BY", "AM"):
        return f'OOO "{_pick(rng, _SLAV_A)}{_pick(rng, _SLAV_B)}"'
    if country == "AE":
        return f"{_pick(rng, _AE_A)} {_pick(rng, _EN_B).title()} General Trading LLC"
    if country in ("FR", "NL", "PL", "CZ", "FI"):
        legal = {"FR": "SAS", "NL": "B.V.", "PL": "Sp. z o.o.", "CZ": "s.r.o.", "FI": "Oy"}[country]
        return f"{_pick(rng, _EN_A)}{_pick(rng, _EN_B)} {s} {legal}"
    legal = {
        "US": "Inc.", "GB": "Ltd", "EC": "S.A.", "BR": "Ltda.", "MA": "S.A.R.L.", "EG": "S.A.E.",
        "RS": "d.o.o.", "GE": "LLC", "AZ": "MMC", "MY": "Sdn. Bhd.", "BD": "Ltd.",
        "PK": "(Pvt.) Ltd.",
    }.get(country, "Co., Ltd.")  # fmt: skip
    return f"{_pick(rng, _EN_A)}{_pick(rng, _EN_B)} {s} {legal}"
