"""The contract compiled to SQL must judge every row exactly as the contract's pandera model does.

The ingest validates in DuckDB (`assets.common.contract_sql`) for speed; the pandera model
(`assets.common.contracts.validate`) is the reference. Both are derived from the same YAML, and
these tests hold them to the same verdicts: on every demo and reference delivery, and on a row
for every rule a contract can state.
"""

import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.common.contract_sql import SCREEN, checked_rows_query, repeated_keys_queries
from assets.common.contracts import (
    CONTROL_CHARACTERS,
    PRINTABLE_TEXT,
    REASONS_COLUMN,
    Contract,
    list_contracts,
    load_contract,
    validate,
)
from assets.common.paths import DEMO_BUNDLE_DIR, REFERENCE_DIR

KEEP = ["source_row_number"]


def sql_validate(frame: pl.DataFrame, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid, quarantined) as the ingest's SQL gives them, for a frame of received text."""
    con = duckdb.connect()
    con.register("received", frame.to_arrow())
    repeated = []
    for number, (keys_sql, keys_params) in enumerate(repeated_keys_queries(contract, "received")):
        con.execute(f"create table _repeated_{number} as {keys_sql}", keys_params)
        repeated.append(f"_repeated_{number}")
    query, params = checked_rows_query(contract, "received", KEEP, repeated=repeated)
    checked = con.sql(query, params=params).pl()
    valid = checked.filter(pl.col(REASONS_COLUMN).is_null()).drop(REASONS_COLUMN)
    bad = checked.filter(pl.col(REASONS_COLUMN).is_not_null()).select(KEEP[0], REASONS_COLUMN)
    assert bad.filter(pl.col(REASONS_COLUMN).list.len() == 0).is_empty()
    return valid.sort(KEEP), bad.sort(KEEP)


def pandera_validate(frame: pl.DataFrame, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
    result = validate(frame, contract, keep=KEEP)
    return (
        result.valid.select(KEEP[0], *contract.column_names).sort(KEEP),
        result.quarantined.select(KEEP[0], REASONS_COLUMN).sort(KEEP),
    )


def _numbered(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_row_index(KEEP[0], offset=1).with_columns(pl.col(KEEP[0]).cast(pl.Int64))


def _deliveries() -> list[tuple[str, Path]]:
    found = []
    for contract_id in list_contracts():
        source = load_contract(contract_id).custom.get("source")
        if not source:
            continue
        pattern = source["landing"].replace("{month}", "*")
        roots = (
            [REFERENCE_DIR]
            if source.get("root") == "reference"
            else [DEMO_BUNDLE_DIR, DEMO_BUNDLE_DIR.parent]
        )
        paths = next((sorted(r.glob(pattern)) for r in roots if any(r.glob(pattern))), [])
        found += [(contract_id, path) for path in paths]
    return found


DELIVERIES = _deliveries()


def test_every_source_contract_has_a_delivery_to_compare_on() -> None:
    with_source = {c for c in list_contracts() if "source" in load_contract(c).custom}
    assert {contract_id for contract_id, _ in DELIVERIES} == with_source


def _by_contract() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for contract_id, path in DELIVERIES:
        found.setdefault(contract_id, []).append(path)
    return found


@pytest.mark.parametrize(
    ("contract_id", "paths"),
    list(_by_contract().items()),
    ids=[f"{c}:{len(p)} files" for c, p in _by_contract().items()],
)
def test_sql_and_pandera_agree_on_every_delivery(contract_id: str, paths: list[Path]) -> None:
    """Every row of every delivery of a contract, judged by both. A contract's deliveries (the
    demo's 36 monthly files of customs and of trade statistics) are judged as one frame: every
    row-level verdict is the one its own file gets, and a key repeated within a file is repeated
    in the whole too (one frame costs a validation each way; 36 cost 13 s of the test loop)."""
    contract = load_contract(contract_id)
    frames = [pl.read_csv(p, infer_schema=False).select(contract.column_names) for p in paths]
    frame = _numbered(pl.concat(frames))
    sql_valid, sql_bad = sql_validate(frame, contract)
    pa_valid, pa_bad = pandera_validate(frame, contract)
    # rows are numbered across the files in this order
    files = ", ".join(f"{p.name} ({f.height} rows)" for p, f in zip(paths, frames, strict=True))
    assert sql_bad.to_dicts() == pa_bad.to_dicts(), files
    assert sql_valid.schema == pa_valid.schema
    assert sql_valid.equals(pa_valid), files
    assert sql_valid.height + sql_bad.height == frame.height


def _declaration(**overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "declaration_id": "10702030/150323/0012345",
        "declaration_date": "2023-03-15",
        "importer_name": "OOO TEST",
        "importer_inn": "5047120398",
        "exporter_name": "ACME",
        "exporter_country": "TW",
        "origin_country": "TW",
        "dispatch_country": "TR",
        "commodity_code": "8457101000",
        "goods_description": "machining centre",
        "invoice_value": "1000.50",
        "invoice_currency": "USD",
        "statistical_value_usd": "1000.50",
        "net_weight_kg": "3500",
        "quantity": "1",
        "quantity_unit": "pcs",
    }
    row.update(overrides)
    return row


EDGE_DECLARATIONS = [
    _declaration(),
    _declaration(declaration_id="10702030/150323/0000002", declaration_date="2023-02-30"),
    _declaration(declaration_id="10702030/150323/0000003", statistical_value_usd="12,5x"),
    _declaration(declaration_id="10702030/150323/0000004", statistical_value_usd="-4"),
    _declaration(declaration_id="10702030/150323/0000005", origin_country="XX"),
    _declaration(declaration_id="10702030/150323/0000006", commodity_code="845710"),
    _declaration(declaration_id=""),
    _declaration(declaration_id=None),
    _declaration(),  # repeats the first row's key
    _declaration(declaration_id="10702030/150323/0000009", importer_inn="", dispatch_country="XX"),
    _declaration(declaration_id=" 10702030/150323/0000010 ", importer_name="  padded  "),
    _declaration(declaration_id="10702030/150323/0000011", origin_country="tw"),
    _declaration(declaration_id="10702030/150323/0000012", invoice_value="1e3", quantity="inf"),
    _declaration(declaration_id="10702030/150323/0000013", net_weight_kg="   ", quantity=""),
    _declaration(declaration_id="10702030/150323/0000014", declaration_date="15/03/2023"),
    _declaration(declaration_id="10702030/150323/0000015", invoice_currency="RUR"),
    _declaration(declaration_id="10702030/150323/0000016", importer_inn="50471203981"),
    _declaration(declaration_id="10702030/150323/0000017", statistical_value_usd="\u00a012.5\t"),
    _declaration(declaration_id="10702030/150323/0000018", invoice_value="", quantity="-1"),
    _declaration(declaration_id="10702030/150323/0000010"),  # repeats a padded key
    _declaration(declaration_id="10702030/150323/0000019", importer_name="OOO\x07BELL"),
    _declaration(declaration_id="10702030/150323/0000020", exporter_name="ACME\u202eLTD"),
    _declaration(declaration_id="10702030/150323/0000021", goods_description="a\x00b\x9bc"),
    _declaration(declaration_id="10702030/150323/0000022", goods_description="two\nlines\ttab"),
]


def test_sql_and_pandera_agree_on_every_kind_of_defect() -> None:
    contract = load_contract("customs_declarations")
    frame = _numbered(
        pl.DataFrame(EDGE_DECLARATIONS, schema=dict.fromkeys(contract.column_names, pl.String))
    )
    sql_valid, sql_bad = sql_validate(frame, contract)
    pa_valid, pa_bad = pandera_validate(frame, contract)
    assert sql_bad.to_dicts() == pa_bad.to_dicts()
    assert sql_valid.equals(pa_valid)
    # the cases above are not vacuous: most rows are quarantined, some with several reasons
    # the tab and line break inside a description are text; quantity "inf" is no number
    assert sql_valid.height == 5
    control = sql_bad.filter(pl.col(KEEP[0]).is_in([21, 22, 23]))
    assert control.get_column(REASONS_COLUMN).list.first().str.contains("control character").all()
    assert max(len(r) for r in sql_bad.get_column(REASONS_COLUMN).to_list()) >= 2


@pytest.mark.parametrize(
    ("weight", "value", "reason"),
    [
        ("nan", "10", "net_weight_kg: must be a finite number, not NaN or infinity"),
        ("NaN", "10", "net_weight_kg: must be a finite number, not NaN or infinity"),
        ("inf", "10", "net_weight_kg: must be a finite number, not NaN or infinity"),
        ("-Infinity", "10", "net_weight_kg: must be a finite number, not NaN or infinity"),
        ("1e400", "10", "net_weight_kg: must be a finite number, not NaN or infinity"),
        ("5", "nan", "statistical_value_usd: is required but empty"),
        ("5", "Infinity", "statistical_value_usd: must be a finite number, not NaN or infinity"),
        ("5", "1e-400", None),  # underflows to 0: a number
    ],
)
def test_a_number_that_is_not_finite_is_quarantined(
    weight: str, value: str, reason: str | None
) -> None:
    """NaN or infinity in a number column would poison every sum of the marts."""
    contract = load_contract("customs_declarations")
    row = _declaration(net_weight_kg=weight, statistical_value_usd=value)
    frame = _numbered(pl.DataFrame([row], schema=dict.fromkeys(contract.column_names, pl.String)))
    sql_valid, sql_bad = sql_validate(frame, contract)
    pa_valid, pa_bad = pandera_validate(frame, contract)
    assert sql_bad.to_dicts() == pa_bad.to_dicts()
    assert sql_valid.equals(pa_valid)
    if reason is None:
        assert sql_bad.is_empty()
    else:
        reasons = sql_bad.get_column(REASONS_COLUMN).to_list()
        assert len(reasons) == 1 and any(r.startswith(reason) for r in reasons[0]), reasons


@pytest.mark.parametrize(
    "year", ["2023", "2023.0", " 2023 ", "1999", "20x3", "", "+2023", "9" * 25]
)
def test_sql_and_pandera_agree_on_integers(year: str) -> None:
    contract = load_contract("financial_statements")
    row = {"inn": "5047120398", "year": year, "line_code": "2110", "value_thousand_rub": "10"}
    frame = _numbered(pl.DataFrame([row]).select(contract.column_names))
    sql_valid, sql_bad = sql_validate(frame, contract)
    pa_valid, pa_bad = pandera_validate(frame, contract)
    assert sql_bad.to_dicts() == pa_bad.to_dicts()
    assert sql_valid.equals(pa_valid)


@pytest.mark.parametrize("weight", ["nan", "-nan", "inf", "5e9", "7"])
def test_a_nan_against_a_bound_is_quoted_alike(weight: str) -> None:
    """NaN breaks a maximum in both engines; DuckDB writes it nan or -nan, polars NaN."""
    from dataclasses import replace

    contract = load_contract("customs_declarations")
    bounded = [
        replace(c, maximum=1e9) if c.name == "net_weight_kg" else c for c in contract.columns
    ]
    contract = replace(contract, columns=type(contract.columns)(bounded))
    row = _declaration(net_weight_kg=weight)
    frame = _numbered(pl.DataFrame([row], schema=dict.fromkeys(contract.column_names, pl.String)))
    sql_valid, sql_bad = sql_validate(frame, contract)
    pa_valid, pa_bad = pandera_validate(frame, contract)
    assert sql_bad.to_dicts() == pa_bad.to_dicts()
    assert sql_valid.equals(pa_valid)
    assert sql_bad.is_empty() == (weight == "7")


def test_the_control_characters_are_those_printable_text_refuses() -> None:
    """The screen's character class and the `control` rule's pattern name the same characters."""
    printable = re.compile(PRINTABLE_TEXT)
    differ = [
        hex(code)
        for code in range(0x3100)
        if (printable.match(chr(code)) is None) != (chr(code) in CONTROL_CHARACTERS)
    ]
    assert differ == []


@pytest.mark.parametrize(
    ("values", "plain"),
    [
        (["ООО «СТАНКО»", "8457101000", None], True),
        (["a|b", "", "x"], True),  # a "|" alone, an empty value
        (["a", " b"], False),  # leading white space
        (["a\u3000", "b"], False),  # trailing white space beyond ASCII
        (["a| b", "c"], False),  # inside a value: only slower, never wrong
        (["a\x0bb"], False),  # a control character that is not at an edge
        (["ab\u202ec"], False),  # a bidirectional override
        (["x\x85", "y"], False),  # white space and a control character at once
    ],
)
def test_a_row_is_plain_only_when_no_value_needs_trimming_or_holds_a_control_character(
    values: list[str | None], plain: bool
) -> None:
    con = duckdb.connect()
    names = ", ".join(f"$v{i}::varchar" for i in range(len(values)))
    screened = con.execute(
        f"select not coalesce(regexp_matches(concat_ws('|', {names}), $screen), false)",
        {"screen": SCREEN, **{f"v{i}": v for i, v in enumerate(values)}},
    ).fetchone()
    assert screened == (plain,)
