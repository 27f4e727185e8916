"""Landing files as received: encodings detected, XLSX accepted, header checked."""

import hashlib
import tempfile
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.common.contracts import load_contract
from assets.common.ingest import _present
from assets.common.raw import (
    RECEIVED_ROWS,
    LandingFileError,
    land,
    land_and_prepare,
    prepare,
    receive,
    received_columns,
    scan,
)

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


def read_as_received(landed: object, columns: list[str], encodings: list[str]) -> pl.DataFrame:
    """What `receive` loads, as a frame with the encoding it found."""
    con = duckdb.connect()
    encoding = receive(con, landed, columns, encodings)  # type: ignore[arg-type]
    frame = con.sql(
        f"select {received_columns(columns)} from _received_rows order by source_row_number"  # noqa: S608
    ).pl()
    return frame.with_columns(pl.lit(encoding).alias("source_encoding"))


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
    with pytest.raises(LandingFileError, match=r"missing: .*; 1 unexpected column") as refused:
        read_as_received(land(path, tmp_path), COLUMNS, ENCODINGS)
    assert "surprise" not in str(refused.value)  # the file's own text is never echoed


def test_a_month_outside_the_contract_volume_bounds_is_reported(tmp_path: Path) -> None:
    import dagster as dg

    import assets.customs
    from assets.common.landing import LandingArea
    from assets.common.partitions import register_months
    from assets.common.warehouse import Warehouse

    landing = tmp_path / "landing"
    (landing / "customs").mkdir(parents=True)
    (landing / "customs" / "declarations_2023-03.csv").write_text(
        ",".join(COLUMNS) + "\n", encoding="utf-8"
    )  # a delivery with a header and no rows
    instance = dg.DagsterInstance.ephemeral()
    register_months(instance, ["2023-03"])
    result = dg.materialize(
        [d for d in assets.customs.defs if not isinstance(d, dg.AssetChecksDefinition)]
        + [d for d in assets.customs.defs if isinstance(d, dg.AssetChecksDefinition)],
        resources={
            "warehouse": Warehouse(
                build_path=str(tmp_path / "w.build.duckdb"), published_path=str(tmp_path / "w")
            ),
            "landing": LandingArea(path=str(landing)),
        },
        partition_key="2023-03",
        instance=instance,
        selection=[dg.AssetKey(["raw", "customs_declarations"])],
        raise_on_error=False,
    )
    volume = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "volume_within_bounds"
    ]
    assert len(volume) == 1
    assert not volume[0].passed
    assert "1 of 1 loads outside 1..2000000 rows" in (volume[0].description or "")
    # a run of one partition names it in the step log (not only runs over a range)
    with duckdb.connect(str(tmp_path / "w.build.duckdb"), read_only=True) as con:
        logged = con.execute("select asset_key, partition_key from audit.step_log").fetchall()
    assert logged == [("raw/customs_declarations", "2023-03")]


def test_row_numbers_follow_the_file_order_across_parallel_scans(tmp_path: Path) -> None:
    """A file large enough for DuckDB to scan in parallel still numbers records in file order."""
    path = tmp_path / "big.csv"
    rows = 300_000  # about 25 MB: several scan chunks
    frame = pl.DataFrame({c: [f"{c}-{i}" for i in range(rows)] for c in COLUMNS[:4]})
    frame = frame.with_columns(pl.lit("x" * 20).alias(c) for c in COLUMNS[4:]).with_columns(
        pl.int_range(1, rows + 1).cast(pl.String).alias("declaration_id")
    )
    frame.write_csv(path)
    con = duckdb.connect(config={"threads": 4})
    receive(con, land(path, tmp_path), COLUMNS, ENCODINGS)
    mismatched = con.execute(
        f"select count(*) from (select {received_columns(COLUMNS)} from _received_rows) "  # noqa: S608
        "where declaration_id::bigint <> source_row_number"
    ).fetchall()[0][0]
    assert con.execute("select count(*) from _received").fetchall()[0][0] == rows
    assert mismatched == 0


def test_files_scanned_together_are_numbered_each_from_one(tmp_path: Path) -> None:
    """One parallel scan of several files (one empty, one in windows-1251) numbers each file's
    records from 1 in its own order, and counts each file's rows."""
    sizes = {"a.csv": 150_000, "empty.csv": 0, "b.csv": 2_500, "c.csv": 140_000}
    landed = []
    for name, rows in sizes.items():
        frame = pl.DataFrame(
            {c: [ROW[i]] * rows for i, c in enumerate(COLUMNS)},
            schema=dict.fromkeys(COLUMNS, pl.String),
        ).with_columns(pl.int_range(1, rows + 1).cast(pl.String).alias("declaration_id"))
        path = tmp_path / name
        path.write_bytes(frame.write_csv().encode("windows-1251" if name == "b.csv" else "utf-8"))
        landed.append(land(path, tmp_path))
    con = duckdb.connect(config={"threads": 4})
    with tempfile.TemporaryDirectory() as workdir:
        batch = [prepare(f, COLUMNS, Path(workdir), ENCODINGS) for f in landed]
        counts, refused = scan(con, batch, COLUMNS)
    assert refused == []
    assert [d.encoding for d in batch] == ["utf-8", "utf-8", "windows-1251", "utf-8"]
    assert {d.landed.relative: counts[d.scanned] for d in batch} == sizes
    names = {str(d.scanned): d.landed.relative for d in batch}
    per_file = con.execute(
        "select _path, count(*), "  # noqa: S608
        "count(*) filter (where declaration_id::bigint <> source_row_number), "
        f"count(*) filter (where importer_name <> $name) from {RECEIVED_ROWS} group by all",
        {"name": ROW[2]},
    ).fetchall()
    found = {
        names[path]: (rows, misnumbered, garbled) for path, rows, misnumbered, garbled in per_file
    }
    assert found == {name: (rows, 0, 0) for name, rows in sizes.items() if rows}


def test_a_ragged_record_rejects_the_file_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    good = ",".join(f'"{v}"' for v in ROW)
    path.write_text(",".join(COLUMNS) + f"\n{good}\n{good},extra\n", encoding="utf-8")
    with pytest.raises(LandingFileError, match=r"e.csv: a record does not fit .* at line 3") as bad:
        read_as_received(land(path, tmp_path), COLUMNS, ENCODINGS)
    assert "extra" not in str(bad.value)


def test_columns_in_another_order_are_read_by_name(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    order = list(reversed(COLUMNS))
    values = dict(zip(COLUMNS, ROW, strict=True))
    path.write_text(
        ",".join(order) + "\n" + ",".join(f'"{values[c]}"' for c in order) + "\n",
        encoding="utf-8",
    )
    frame = read_as_received(land(path, tmp_path), COLUMNS, ENCODINGS)
    assert frame.select(COLUMNS).row(0) == tuple(ROW)


def test_a_symlink_in_the_landing_area_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    landing = tmp_path / "landing"
    (landing / "customs").mkdir(parents=True)
    link = landing / "customs" / "declarations_2024-11.csv"
    link.symlink_to(secret)
    with pytest.raises(LandingFileError, match="a symbolic link, refused unread") as refused:
        land(link, landing)
    assert "root" not in str(refused.value)


def test_a_linked_folder_is_refused_too(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "declarations_2024-11.csv").write_text("x\n", encoding="utf-8")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "customs").symlink_to(elsewhere)
    with pytest.raises(
        LandingFileError, match=r"customs/declarations_2024-11\.csv: a symbolic link"
    ):
        land(landing / "customs" / "declarations_2024-11.csv", landing)


def test_one_file_twice_in_a_scan_is_an_error_not_rows_counted_twice(tmp_path: Path) -> None:
    landed = land(_csv(tmp_path / "a.csv", "utf-8"), tmp_path)
    with tempfile.TemporaryDirectory() as workdir:
        delivery = prepare(landed, COLUMNS, Path(workdir), ENCODINGS)
        with pytest.raises(ValueError, match="delivered twice"):
            scan(duckdb.connect(), [delivery, delivery], COLUMNS)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_landing_and_preparing_at_once_is_landing_then_preparing(
    tmp_path: Path, encoding: str
) -> None:
    """The hash is computed in a thread beside the encoding check: the same delivery results."""
    path = _csv(tmp_path / f"{encoding}.csv", encoding)
    for workdir in ("a", "b"):  # where a file in another encoding is copied to UTF-8
        (tmp_path / workdir).mkdir()
    at_once = land_and_prepare(path, tmp_path, COLUMNS, tmp_path / "a", ENCODINGS)
    one_then_other = prepare(land(path, tmp_path), COLUMNS, tmp_path / "b", ENCODINGS)
    assert at_once.landed == one_then_other.landed
    assert at_once.landed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (at_once.encoding, at_once.header, at_once.plain_records) == (
        one_then_other.encoding,
        one_then_other.header,
        one_then_other.plain_records,
    )


def test_landing_and_preparing_at_once_refuses_what_either_refuses(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    link = landing / "linked.csv"
    link.symlink_to(_csv(tmp_path / "outside.csv", "utf-8"))
    with pytest.raises(LandingFileError, match="a symbolic link, refused unread"):
        land_and_prepare(link, landing, COLUMNS, tmp_path, ENCODINGS)
    cp1251 = _csv(landing / "cp1251.csv", "windows-1251")
    with pytest.raises(LandingFileError, match="not in a declared encoding"):
        land_and_prepare(cp1251, landing, COLUMNS, tmp_path, ["utf-8"])
