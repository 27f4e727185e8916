"""Taiwan Customs CSV exports (portal layout and by-country layout) into the normalized frame.

Portal layout: Chinese headers 進出口別, 日期, 貨品號列, 中文貨名, 英文貨名, 美元(千元); periods in
ROC years (year + 1911, e.g. 102年 = 2013, or 114年1月~114年7月(初步值) = Jan-Jul 2025,
preliminary), values in thousand USD (scaled by 1000 here), 11-digit CCC codes (HS6 + 2
national + 2 statistical digits + 1 check digit). No partner column means all destinations,
kept as the aggregate WORLD; an optional 國家 column gives the destination.
By-country layout: Year (Gregorian), Country (Chinese name), HS Code, Description, Export Value
(USD), values already in US dollars.
Reporter is always Taiwan (TW). UTF-8, with or without BOM; Big5 (cp950) as a fallback.
"""

from __future__ import annotations

import re
from functools import lru_cache

import polars as pl

from assets.trade_statistics.formats import TradeFormatError
from assets.trade_statistics.formats._common import (
    WORLD,
    Period,
    Row,
    as_float,
    check_width,
    column_index,
    decode,
    hs6_of,
    months_period,
    normalize_text,
    parse_decimal,
    read_csv,
    to_frame,
    year_period,
)

FORMAT = "taiwan_customs"
PARSER_VERSION = "taiwan_customs/1"

ENCODINGS = ("utf-8", "cp950")
ROC_OFFSET = 1911
THOUSAND = 1000

PORTAL_REQUIRED = ("進出口別", "日期", "貨品號列", "美元(千元)")
PORTAL_PARTNER = "國家"
BY_COUNTRY_REQUIRED = ("Year", "Country", "HS Code", "Export Value (USD)")

# 進出口別 values. 國貨出口 (domestic exports only) and 進口 without 總值 are left out on purpose:
# they are parts of X and M, not the same measure.
FLOWS = {
    "出口總值(含復出口)": "X",
    "進口總值(含復進口)": "M",
    "復出口": "RX",
    "復進口": "RM",
}

_ROC_PERIOD = re.compile(
    r"(?P<y1>\d{1,3})年(?:(?P<m1>\d{1,2})月)?"
    r"(?:~(?P<y2>\d{1,3})年(?P<m2>\d{1,2})月)?"
    r"(?:\((?P<note>[^)]*)\))?"
)


@lru_cache(maxsize=4096)
def roc_period(text: str) -> Period:
    """Period of a ROC-calendar label: 102年, 114年7月, 114年1月~114年7月(初步值)."""
    match = _ROC_PERIOD.fullmatch(normalize_text(text).replace(" ", ""))
    if match is None:
        raise ValueError(f"not a ROC-calendar period: {text!r}")
    year = int(match["y1"]) + ROC_OFFSET
    first = int(match["m1"]) if match["m1"] else None
    if match["y2"] is None:
        return year_period(year) if first is None else months_period(year, first, first)
    if first is None or int(match["y2"]) + ROC_OFFSET != year:
        raise ValueError(f"period range {text!r} is not months of one year")
    return months_period(year, first, int(match["m2"]))


@lru_cache(maxsize=4096)
def _partner(label: str) -> str | None:
    return TAIWAN_COUNTRY_NAMES.get(normalize_text(label))


def parse(data: bytes) -> pl.DataFrame:
    """Normalized frame for either Taiwan Customs layout (one row per input record)."""
    header, records = read_csv(decode(data, fmt=FORMAT, encodings=ENCODINGS), fmt=FORMAT)
    header = [normalize_text(name) for name in header]
    if set(BY_COUNTRY_REQUIRED) <= set(header):
        return _parse_by_country(header, records)
    if set(PORTAL_REQUIRED) <= set(header):
        return _parse_portal(header, records)
    raise TradeFormatError(
        f"{FORMAT}: header is neither the portal layout {list(PORTAL_REQUIRED)} nor the "
        f"by-country layout {list(BY_COUNTRY_REQUIRED)}; header was {header[:12]}"
    )


def _parse_portal(header: list[str], records: list[tuple[int, list[str]]]) -> pl.DataFrame:
    col = column_index(header, PORTAL_REQUIRED, (PORTAL_PARTNER,), fmt=FORMAT)
    rows = []
    for number, record in records:
        check_width(record, len(header), number, fmt=FORMAT)
        flow_label = normalize_text(record[col["進出口別"]])
        flow = FLOWS.get(flow_label)
        if flow is None:
            raise TradeFormatError(f"{FORMAT}: row {number}: unsupported 進出口別 {flow_label!r}")
        try:
            period = roc_period(record[col["日期"]])
        except ValueError as exc:
            raise TradeFormatError(f"{FORMAT}: row {number}: {exc}") from exc
        thousands = parse_decimal(
            record[col["美元(千元)"]], column="美元(千元)", number=number, fmt=FORMAT
        )
        if PORTAL_PARTNER in col:
            label: str | None = record[col[PORTAL_PARTNER]].strip()
            partner, aggregate = _partner(label or ""), False
        else:
            label, partner, aggregate = None, WORLD, True
        code = record[col["貨品號列"]].strip()
        rows.append(
            _row(
                partner=partner,
                partner_label=label or None,
                partner_is_aggregate=aggregate,
                flow=flow,
                period=period,
                code=code,
                value_usd=as_float(None if thousands is None else thousands * THOUSAND),
                number=number,
            )
        )
    return to_frame(rows)


def _parse_by_country(header: list[str], records: list[tuple[int, list[str]]]) -> pl.DataFrame:
    col = column_index(header, BY_COUNTRY_REQUIRED, fmt=FORMAT)
    rows = []
    for number, record in records:
        check_width(record, len(header), number, fmt=FORMAT)
        year = record[col["Year"]].strip()
        if not re.fullmatch(r"\d{4}", year):
            raise TradeFormatError(f"{FORMAT}: row {number}: Year {year!r} is not a year")
        label = record[col["Country"]].strip()
        value = parse_decimal(
            record[col["Export Value (USD)"]],
            column="Export Value (USD)",
            number=number,
            fmt=FORMAT,
        )
        rows.append(
            _row(
                partner=_partner(label),
                partner_label=label or None,
                partner_is_aggregate=False,
                flow="X",
                period=year_period(int(year)),
                code=record[col["HS Code"]].strip(),
                value_usd=as_float(value),
                number=number,
            )
        )
    return to_frame(rows)


def _row(
    *,
    partner: str | None,
    partner_label: str | None,
    partner_is_aggregate: bool,
    flow: str,
    period: Period,
    code: str,
    value_usd: float | None,
    number: int,
) -> Row:
    return Row(
        reporter_country="TW",
        reporter_label=None,
        reporter_is_aggregate=False,
        partner_country=partner,
        partner_label=partner_label,
        partner_is_aggregate=partner_is_aggregate,
        flow=flow,
        period_start=period.start,
        period_end=period.end,
        period_granularity=period.granularity,
        product_code=code,
        hs6=hs6_of(code),
        hs_edition=None,
        value_usd=value_usd,
        value_eur=None,
        net_weight_kg=None,
        source_row_number=number,
    )


# Taiwan Customs destination names (traditional Chinese) -> ISO alpha-2, transcribed from
# country_name_map_full.json (199 entries; the English name it gives is in the comment).
# None: 其他國家 is the residual "other countries"; Netherlands Antilles has had no ISO
# alpha-2 code since 2010. Both keep their label in partner_label.
TAIWAN_COUNTRY_NAMES: dict[str, str | None] = {
    "土耳其": "TR",  # Turkey
    "中國大陸": "CN",  # China
    "丹麥": "DK",  # Denmark
    "厄瓜多": "EC",  # Ecuador
    "巴西": "BR",  # Brazil
    "巴基斯坦": "PK",  # Pakistan
    "日本": "JP",  # Japan
    "比利時": "BE",  # Belgium
    "以色列": "IL",  # Israel
    "加拿大": "CA",  # Canada
    "瓜地馬拉": "GT",  # Guatemala
    "白俄羅斯": "BY",  # Belarus
    "立陶宛": "LT",  # Lithuania
    "冰島": "IS",  # Iceland
    "匈牙利": "HU",  # Hungary
    "印尼": "ID",  # Indonesia
    "印度": "IN",  # India
    "托克勞": "TK",  # Tokelau
    "西班牙": "ES",  # Spain
    "利比亞": "LY",  # Libya
    "希臘": "GR",  # Greece
    "沙烏地阿拉伯": "SA",  # Saudi Arabia
    "貝里斯": "BZ",  # Belize
    "坦尚尼亞": "TZ",  # Tanzania
    "奈及利亞": "NG",  # Nigeria
    "委內瑞拉": "VE",  # Venezuela
    "孟加拉": "BD",  # Bangladesh
    "尚比亞": "ZM",  # Zambia
    "帛琉": "PW",  # Palau
    "拉脫維亞": "LV",  # Latvia
    "波蘭": "PL",  # Poland
    "法國": "FR",  # France
    "肯亞": "KE",  # Kenya
    "芬蘭": "FI",  # Finland
    "阿拉伯聯合大公國": "AE",  # United Arab Emirates
    "阿根廷": "AR",  # Argentina
    "阿爾及利亞": "DZ",  # Algeria
    "保加利亞": "BG",  # Bulgaria
    "俄羅斯": "RU",  # Russia
    "南非": "ZA",  # South Africa
    "南韓": "KR",  # South Korea
    "哈薩克": "KZ",  # Kazakhstan
    "柬埔寨": "KH",  # Cambodia
    "科威特": "KW",  # Kuwait
    "突尼西亞": "TN",  # Tunisia
    "約旦": "JO",  # Jordan
    "美國": "US",  # United States
    "美屬維京群島": "VI",  # United States Virgin Islands
    "英國": "GB",  # United Kingdom
    "香港": "HK",  # Hong Kong
    "哥倫比亞": "CO",  # Colombia
    "哥斯大黎加": "CR",  # Costa Rica
    "埃及": "EG",  # Egypt
    "挪威": "NO",  # Norway
    "泰國": "TH",  # Thailand
    "烏克蘭": "UA",  # Ukraine
    "烏拉圭": "UY",  # Uruguay
    "紐西蘭": "NZ",  # New Zealand
    "馬來西亞": "MY",  # Malaysia
    "馬紹爾群島": "MH",  # Marshall Islands
    "馬爾地夫": "MV",  # Maldives
    "捷克": "CZ",  # Czech Republic
    "荷蘭": "NL",  # Netherlands
    "斐濟": "FJ",  # Fiji
    "斯里蘭卡": "LK",  # Sri Lanka
    "斯洛伐克": "SK",  # Slovakia
    "斯洛維尼亞": "SI",  # Slovenia
    "智利": "CL",  # Chile
    "菲律賓": "PH",  # Philippines
    "越南": "VN",  # Vietnam
    "奧地利": "AT",  # Austria
    "愛沙尼亞": "EE",  # Estonia
    "愛爾蘭": "IE",  # Ireland
    "新加坡": "SG",  # Singapore
    "瑞士": "CH",  # Switzerland
    "瑞典": "SE",  # Sweden
    "義大利": "IT",  # Italy
    "聖文森及格瑞納丁": "VC",  # Saint Vincent and the Grenadines
    "葡萄牙": "PT",  # Portugal
    "蒙古": "MN",  # Mongolia
    "德國": "DE",  # Germany
    "緬甸": "MM",  # Myanmar
    "墨西哥": "MX",  # Mexico
    "澳大利亞": "AU",  # Australia
    "澳門": "MO",  # Macau
    "賴索托": "LS",  # Lesotho
    "薩爾瓦多": "SV",  # El Salvador
    "羅馬尼亞": "RO",  # Romania
    "關島": "GU",  # Guam
    "秘魯": "PE",  # Peru
    "中非": "CF",  # Central African Republic
    "巴拿馬": "PA",  # Panama
    "東加": "TO",  # Tonga
    "波多黎各": "PR",  # Puerto Rico
    "索馬利亞": "SO",  # Somalia
    "塞爾維亞": "RS",  # Serbia
    "摩洛哥": "MA",  # Morocco
    "模里西斯": "MU",  # Mauritius
    "賽普勒斯": "CY",  # Cyprus
    "馬爾他": "MT",  # Malta
    "薩摩亞": "WS",  # Samoa
    "巴林": "BH",  # Bahrain
    "尼加拉瓜": "NI",  # Nicaragua
    "尼泊爾": "NP",  # Nepal
    "紐喀里多尼亞": "NC",  # New Caledonia
    "黎巴嫩": "LB",  # Lebanon
    "安圭拉": "AI",  # Anguilla
    "衣索比亞": "ET",  # Ethiopia
    "厄利垂亞": "ER",  # Eritrea
    "亞美尼亞": "AM",  # Armenia
    "喀麥隆": "CM",  # Cameroon
    "葉門": "YE",  # Yemen
    "百慕達": "BM",  # Bermuda
    "南極洲": "AQ",  # Antarctica
    "納米比亞": "NA",  # Namibia
    "塞席爾": "SC",  # Seychelles
    "多明尼加": "DO",  # Dominican Republic
    "巴拉圭": "PY",  # Paraguay
    "北馬其頓": "MK",  # North Macedonia
    "古巴": "CU",  # Cuba
    "史瓦帝尼": "SZ",  # Eswatini
    "伊拉克": "IQ",  # Iraq
    "伊朗": "IR",  # Iran
    "辛巴威": "ZW",  # Zimbabwe
    "其他國家": None,  # Others
    "烏干達": "UG",  # Uganda
    "馬利": "ML",  # Mali
    "莫三比克": "MZ",  # Mozambique
    "象牙海岸": "CI",  # Ivory Coast
    "開曼群島": "KY",  # Cayman Islands
    "獅子山": "SL",  # Sierra Leone
    "萬那杜": "VU",  # Vanuatu
    "聖克里斯多福": "KN",  # Saint Kitts and Nevis
    "幾內亞": "GN",  # Guinea
    "克羅埃西亞": "HR",  # Croatia
    "宏都拉斯": "HN",  # Honduras
    "蘇丹": "SD",  # Sudan
    "千里達及托巴哥": "TT",  # Trinidad and Tobago
    "安哥拉": "AO",  # Angola
    "剛果民主共和國": "CD",  # Democratic Republic of the Congo
    "海地": "HT",  # Haiti
    "喬治亞": "GE",  # Georgia
    "盧森堡": "LU",  # Luxembourg
    "亞塞拜然": "AZ",  # Azerbaijan
    "北韓": "KP",  # North Korea
    "摩爾多瓦": "MD",  # Moldova
    "葛摩聯盟": "KM",  # Comoros
    "多哥": "TG",  # Togo
    "英屬維京群島": "VG",  # British Virgin Islands
    "格瑞那達": "GD",  # Grenada
    "馬拉威": "MW",  # Malawi
    "蓋亞那": "GY",  # Guyana
    "汶萊": "BN",  # Brunei
    "阿富汗": "AF",  # Afghanistan
    "迦納": "GH",  # Ghana
    "聖多美普林西比": "ST",  # Sao Tome and Principe
    "安地卡及巴布達": "AG",  # Antigua and Barbuda
    "茅利塔尼亞": "MR",  # Mauritania
    "安道爾": "AD",  # Andorra
    "美屬薩摩亞": "AS",  # American Samoa
    "布吉納法索": "BF",  # Burkina Faso
    "巴布亞紐幾內亞": "PG",  # Papua New Guinea
    "瓜德魯普": "GP",  # Guadeloupe
    "法屬玻里尼西亞": "PF",  # French Polynesia
    "馬達加斯加": "MG",  # Madagascar
    "摩納哥": "MC",  # Monaco
    "玻利維亞": "BO",  # Bolivia
    "吉爾吉斯": "KG",  # Kyrgyzstan
    "聖赫勒拿及阿森松及特斯坦達庫尼亞": "SH",  # Saint Helena, Ascension and Tristan da Cunha
    "阿曼": "OM",  # Oman
    "寮國": "LA",  # Laos
    "牙買加": "JM",  # Jamaica
    "卡達": "QA",  # Qatar
    "索羅門群島": "SB",  # Solomon Islands
    "盧安達": "RW",  # Rwanda
    "蘇利南": "SR",  # Suriname
    "吉布地": "DJ",  # Djibouti
    "巴哈馬": "BS",  # Bahamas
    "東帝汶": "TL",  # East Timor
    "波士尼亞及赫塞哥維納": "BA",  # Bosnia and Herzegovina
    "烏茲別克": "UZ",  # Uzbekistan
    "可可斯基林群島": "CC",  # Cocos (Keeling) Islands
    "格恩西": "GG",  # Guernsey
    "荷屬安地列斯": None,  # Netherlands Antilles
    "塞內加爾": "SN",  # Senegal
    "剛果": "CG",  # Republic of the Congo
    "蒙瑟拉特": "MS",  # Montserrat
    "蒙特內哥羅": "ME",  # Montenegro
    "加彭": "GA",  # Gabon
    "吐瓦魯": "TV",  # Tuvalu
    "科索沃": "XK",  # Kosovo
    "賴比瑞亞": "LR",  # Liberia
    "列支敦斯登": "LI",  # Liechtenstein
    "留尼旺": "RE",  # Reunion
    "多米尼克": "DM",  # Dominica
    "庫克群島": "CK",  # Cook Islands
    "敘利亞": "SY",  # Syria
    "密克羅尼西亞": "FM",  # Micronesia
    "塔吉克": "TJ",  # Tajikistan
}
