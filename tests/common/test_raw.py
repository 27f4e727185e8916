"""Landing files as received: encodings detected, XLSX accepted, header checked."""

from pathlib import Path

import polars as pl
import pytest

from assets.common.contracts import load_contract
from assets.common.ingest import _present
from assets.common.raw import LandingFileError, land, read_as_received

COLUMNS = load_contract("customs_declarations").column_names
ROW = [
    "10702030/150323/0012345", "2023-03-15", "ООО «СТАНКО»", "5047120398", "ACME", "TW", "TW",
    "TW", "8457101000", "обрабатывающий центр", "1000.50", "USD", "1000.50", "3500", "1", "шт",
]  # fmt: skip
ENCODINGS = ["utf-8", "windows-1251"]


def _csv(path: Path, encoding: str) -> Path:
    text = ",".join(COLUMNS) + "\n" + ",".join(f'"{v}"' for v in ROW) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def test_utf8_is_read_and_recorded(tmp_path: Path) -> None:
    frame = read_as_received(land(_csv(tmp_path / "a.csv", "utf-8"), tmp_path), COLUMNS, ENCODINGS)
    assert frame.item(0, "importer_name") == "ООО «СТАНКО»"
    assert frame.item(0, "source_encoding") == "utf-8"
    assert frame.item(0, "source_row_number") == 1


def test_windows_1251_is_detected_not_mistaken_for_utf8(tmp_path: Path) -> None:
    path = _csv(tmp_path / "b.csv", "windows-1251")
    frame = read_as_received(land(path, tmp_path), COLUMNS, ENCODINGS)
    assert frame.item(0, "importer_name") == "ООО «СТАНКО»"
    assert frame.item(0, "goods_description") == "обрабатывающий центр"
    assert frame.item(0, "source_encoding") == "windows-1251"


def test_an_undeclared_encoding_is_an_error_not_a_guess(tmp_path: Path) -> None:
    path = _csv(tmp_path / "c.csv", "windows-1251")
    with pytest.raises(LandingFileError, match="not in a declared encoding"):
        read_as_received(land(path, tmp_path), COLUMNS, ["utf-8"])


def test_xlsx_cells_are_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "declarations_2023-03.xlsx"
    pl.DataFrame([ROW], schema=COLUMNS, orient="row").write_excel(path)
    frame = read_as_received(land(path, tmp_path), COLUMNS, ENCODINGS)
    assert frame.select(COLUMNS).row(0) == tuple(ROW)
    assert frame.item(0, "source_encoding") == "xlsx"


def test_one_delivery_in_two_formats_is_refused(tmp_path: Path) -> None:
    _csv(tmp_path / "declarations_2023-03.csv", "utf-8")
    assert _present(tmp_path / "declarations_2023-03.csv", ["csv", "xlsx"]).suffix == ".csv"
    (tmp_path / "declarations_2023-03.xlsx").write_bytes(b"")
    with pytest.raises(LandingFileError, match="two files"):
        _present(tmp_path / "declarations_2023-03.csv", ["csv", "xlsx"])


def test_a_header_that_differs_from_the_contract_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("declaration_id,surprise\n1,2\n", encoding="utf-8")
    with pytest.raises(LandingFileError, match=r"missing: .*unexpected: \['surprise'\]"):
        read_as_received(land(path, tmp_path), COLUMNS, ENCODINGS)


def test_a_month_outside_the_contract_volume_bounds_is_reported(tmp_path: Path) -> None:
    import dagster as dg

    import assets.customs
    from assets.common.landing import LandingArea
    from assets.common.warehouse import Warehouse

    landing = tmp_path / "landing"
    (landing / "customs").mkdir(parents=True)
    (landing / "customs" / "declarations_2023-03.csv").write_text(
        ",".join(COLUMNS) + "\n", encoding="utf-8"
    )  # a delivery with a header and no rows
    result = dg.materialize(
        [d for d in assets.customs.defs if not isinstance(d, dg.AssetChecksDefinition)]
        + [d for d in assets.customs.defs if isinstance(d, dg.AssetChecksDefinition)],
        resources={
            "warehouse": Warehouse(
                build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w")
            ),
            "landing": LandingArea(path=str(landing)),
        },
        partition_key="2023-03-01",
        selection=[dg.AssetKey(["raw", "customs_declarations"])],
        raise_on_error=False,
    )
    volume = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "volume_within_bounds"
    ]
    assert len(volume) == 1
    assert not volume[0].passed
    assert "1 of 1 loads outside 1..2000000 rows" in (volume[0].description or "")
