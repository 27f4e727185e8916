"""The data contracts drive typing and validation; these tests pin that behaviour down."""

from pathlib import Path

import polars as pl
import pytest

from assets.common.contracts import (
    REASONS_COLUMN,
    ContractViolation,
    list_contracts,
    load_contract,
    pandera_schema,
    validate,
)
from assets.common.paths import CONTRACTS_DIR, SQL_DIR


def _row(**overrides: str) -> dict[str, str]:
    row = {
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


def test_every_contract_loads_and_has_a_staging_sql_file() -> None:
    ids = list_contracts()
    assert "customs_declarations" in ids
    for contract_id in ids:
        contract = load_contract(contract_id)
        assert contract.columns, contract_id
        assert all(column.description for column in contract.columns), contract_id
        if "source" in contract.custom:  # a CSV source read by the generic ingest
            pandera_schema(contract)
            assert contract.physical_name == f"staging.{contract_id}"
            assert (SQL_DIR / "staging" / f"{contract_id}.sql").is_file()


def test_every_mart_has_a_contract() -> None:
    marts = sorted(path.stem for path in (SQL_DIR / "marts").glob("*.sql"))
    described = sorted(
        load_contract(c).physical_name.split(".")[1]
        for c in list_contracts()
        if load_contract(c).physical_name.startswith("marts.")
    )
    assert described == marts


def test_valid_rows_are_typed_by_the_contract() -> None:
    frame = pl.DataFrame([_row()])
    result = validate(frame, load_contract("customs_declarations"))
    assert result.quarantined.height == 0
    assert result.valid.schema["declaration_date"] == pl.Date
    assert result.valid.schema["statistical_value_usd"] == pl.Float64
    assert result.valid.item(0, "statistical_value_usd") == pytest.approx(1000.5)


def test_each_broken_rule_quarantines_the_row_with_a_reason() -> None:
    frame = pl.DataFrame(
        [
            _row(),
            _row(declaration_id="10702030/150323/0000002", declaration_date="2023-02-30"),
            _row(declaration_id="10702030/150323/0000003", statistical_value_usd="12,5x"),
            _row(declaration_id="10702030/150323/0000004", statistical_value_usd="-4"),
            _row(declaration_id="10702030/150323/0000005", origin_country="XX"),
            _row(declaration_id="10702030/150323/0000006", commodity_code="845710"),
            _row(declaration_id=""),
            _row(),  # repeats the first row's declaration_id
            _row(
                declaration_id="10702030/150323/0000009",
                importer_inn="",
                dispatch_country="XX",
            ),
        ]
    )
    result = validate(frame, load_contract("customs_declarations"))
    assert result.valid.height == 1
    reasons = dict(
        zip(
            result.quarantined.get_column("declaration_id").fill_null("<empty>").to_list(),
            result.quarantined.get_column(REASONS_COLUMN).to_list(),
            strict=True,
        )
    )
    assert "not a valid YYYY-MM-DD date" in reasons["10702030/150323/0000002"][0]
    assert "not a number" in reasons["10702030/150323/0000003"][0]
    assert reasons["10702030/150323/0000004"] == [
        "statistical_value_usd: must not be negative (got -4)"
    ]
    assert reasons["10702030/150323/0000005"] == [
        "origin_country: not an ISO country code (got XX)"
    ]
    assert reasons["10702030/150323/0000006"][0].startswith("commodity_code")
    assert reasons["10702030/150323/0012345"] == [
        "declaration_id: duplicate of an earlier row, which is kept (row 1)"
    ]
    assert reasons["10702030/150323/0000009"] == [  # every reason, not just the first
        "dispatch_country: not an ISO country code (got XX)",
        "importer_inn: is required but empty",
    ]
    assert reasons[""] == ["declaration_id: is required but empty"]
    assert result.valid.height + result.quarantined.height == frame.height


def test_quarantined_rows_keep_the_values_as_received() -> None:
    frame = pl.DataFrame([_row(statistical_value_usd=" 12,5x ")]).with_columns(
        pl.lit(7).alias("source_row_number")
    )
    result = validate(frame, load_contract("customs_declarations"), keep=["source_row_number"])
    assert result.quarantined.item(0, "statistical_value_usd") == " 12,5x "
    assert result.quarantined.item(0, "source_row_number") == 7


def test_a_missing_column_rejects_the_whole_file() -> None:
    frame = pl.DataFrame([_row()]).drop("importer_inn")
    with pytest.raises(ContractViolation, match="importer_inn"):
        validate(frame, load_contract("customs_declarations"))


def test_composite_keys_are_unique() -> None:
    row = {
        "reporter_country": "TW",
        "partner_country": "RU",
        "flow": "X",
        "period": "2024-01",
        "hs6": "845710",
        "value_usd": "10",
        "net_weight_kg": "1",
    }
    result = validate(pl.DataFrame([row, row]), load_contract("trade_statistics"))
    assert result.valid.height == 1
    assert "duplicate of an earlier row" in result.quarantined.item(0, REASONS_COLUMN)[0]


def test_a_valid_value_that_is_not_of_its_columns_type_fails_the_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typed like the column's values, `two` would match no row: every row would be quarantined."""
    text = (CONTRACTS_DIR / "hs_nomenclature.yaml").read_text(encoding="utf-8")
    assert "value: [2, 4, 5, 6]" in text
    (tmp_path / "hs_nomenclature.yaml").write_text(
        text.replace("value: [2, 4, 5, 6]", "value: [2, 4, 5, two]"), encoding="utf-8"
    )
    monkeypatch.setattr("assets.common.contracts.CONTRACTS_DIR", tmp_path)
    with pytest.raises(ValueError, match=r"^hs_nomenclature\.yaml: column level: .*integers"):
        load_contract.__wrapped__("hs_nomenclature")  # not the cached contract
