"""Data contracts: load `data_contracts/*.yaml` and derive typing and pandera validation from them.

The YAML files follow the Open Data Contract Standard (ODCS v3) layout: one `schema` object with
`properties` (name, logicalType, required, unique, primaryKey, logicalTypeOptions, description)
and contract-level `customProperties` for the source and the expected volume. Everything the
pipeline checks at ingest is read from these files; nothing is written a second time in code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl
import pycountry
import yaml

from assets.common.paths import CONTRACTS_DIR
from assets.common.rule_sentences import check_message, sentence

if TYPE_CHECKING:
    import pandera.polars as pa

_DTYPES: dict[str, type[pl.DataType]] = {
    "string": pl.String,
    "date": pl.Date,
    "number": pl.Float64,
    "integer": pl.Int64,
    "boolean": pl.Boolean,
}

REASONS_COLUMN = "reasons"

# Text without control characters: C0 (tab, LF and CR aside), DEL, C1, and the bidirectional
# overrides that make a value read differently from what it holds. A rule for every string column.
CONTROL_CHARACTERS = "".join(
    map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
) + "".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
PRINTABLE_TEXT = (  # escapes every regex engine here reads alike (Python, Rust, RE2)
    "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
    + "\u202a-\u202e\u2066-\u2069"  # the characters themselves: no escape common to all three
    + "]*$"
)
CONTROL_REASON = "contains a control character"  # the `control` rule's sentence


class ContractViolation(ValueError):
    """A whole file breaks its contract (e.g. a missing column): nothing from it can be staged."""


def reference_set(name: str) -> list[str]:
    if name == "iso3166_alpha2":
        return [*sorted(country.alpha_2 for country in pycountry.countries), "XK"]
    if name == "iso4217":
        return sorted(currency.alpha_3 for currency in pycountry.currencies)
    if name == "source_contracts":  # datasets delivered through the landing area
        return sorted(c for c in list_contracts() if "source" in load_contract(c).custom)
    if name == "sanctions_lists":  # the lists registered in data_contracts/sanctions_lists.yaml
        return sorted(load_contract("sanctions_lists").custom["lists"])
    raise ValueError(f"unknown reference set {name!r}")


@dataclass(frozen=True)
class Column:
    """One property of a contract's schema."""

    name: str
    logical_type: str
    description: str
    required: bool = False
    unique: bool = False
    pattern: str | None = None
    date_format: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    valid_values: tuple[str, ...] | None = None
    reference_set: str | None = None
    identifier_scheme: str | None = None
    physical_type: str | None = None
    primary_key: bool = False
    # the contract's own sentence for a rule (`ruleMessages`), instead of the derived one
    messages: tuple[tuple[str, str], ...] = ()

    @property
    def dtype(self) -> type[pl.DataType]:
        return _DTYPES[self.logical_type]

    def allowed_values(self) -> list[str] | None:
        if self.valid_values is not None:
            return list(self.valid_values)
        if self.reference_set is not None:
            return reference_set(self.reference_set)
        return None


@dataclass(frozen=True)
class Contract:
    """A dataset's contract as the pipeline uses it."""

    id: str
    name: str
    version: str
    physical_name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    custom: dict[str, Any] = field(default_factory=dict)
    grain: str = ""  # the schema's dataGranularityDescription

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def polars_schema(self) -> dict[str, type[pl.DataType]]:
        return {column.name: column.dtype for column in self.columns}


def _column(prop: dict[str, Any]) -> Column:
    options = prop.get("logicalTypeOptions") or {}
    custom = {item["property"]: item["value"] for item in prop.get("customProperties") or []}
    valid = custom.get("validValues")
    messages = tuple(
        (rule, check_message(rule, str(text)))
        for rule, text in (custom.get("ruleMessages") or {}).items()
    )
    return Column(
        name=prop["name"],
        logical_type=prop["logicalType"],
        description=prop.get("description", "").strip(),
        required=bool(prop.get("required", False)),
        unique=bool(prop.get("unique", False)),
        pattern=options.get("pattern"),
        date_format=options.get("format"),
        minimum=options.get("minimum"),
        maximum=options.get("maximum"),
        valid_values=tuple(str(v) for v in valid) if valid is not None else None,
        reference_set=custom.get("referenceSet"),
        identifier_scheme=custom.get("identifierScheme"),
        physical_type=prop.get("physicalType"),
        primary_key=bool(prop.get("primaryKey", False)),
        messages=messages,
    )


# libyaml's safe loader when PyYAML was built with it: the contracts load in 0.3 s, not 3 s.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load_contract(contract_id: str) -> Contract:
    """Read `data_contracts/<id>.yaml`."""
    text = (CONTRACTS_DIR / f"{contract_id}.yaml").read_text(encoding="utf-8")
    document = yaml.load(text, Loader=_YAML_LOADER)  # a safe loader
    if document.get("id") != contract_id:
        raise ValueError(f"{contract_id}.yaml declares id {document.get('id')!r}")
    (schema,) = document["schema"]
    columns = tuple(_column(prop) for prop in schema["properties"])
    for column in columns:  # a valid value of another type would quarantine every row
        if column.valid_values is not None and column.logical_type != "string":
            try:
                _typed_values(column, list(column.valid_values))
            except ValueError as error:
                raise ValueError(f"{contract_id}.yaml: {error}") from None
    keyed = [p for p in schema["properties"] if p.get("primaryKey")]
    keyed.sort(key=lambda p: p.get("primaryKeyPosition", 0))
    custom = {item["property"]: item["value"] for item in document.get("customProperties") or []}
    return Contract(
        id=contract_id,
        name=document.get("name", contract_id),
        version=str(document["version"]),
        physical_name=schema["physicalName"],
        description=(document.get("description") or {}).get("purpose", "").strip(),
        columns=columns,
        primary_key=tuple(p["name"] for p in keyed),
        custom=custom,
        grain=str(schema.get("dataGranularityDescription") or ""),
    )


def list_contracts() -> list[str]:
    """Ids of every contract in `data_contracts/`."""
    return sorted(path.stem for path in CONTRACTS_DIR.glob("*.yaml"))


@cache
def contract_for_table(layer: str, table: str) -> Contract | None:
    """The contract whose schema is the physical table `layer.table`, if there is one."""
    for contract_id in list_contracts():
        contract = load_contract(contract_id)
        if contract.physical_name == f"{layer}.{table}":
            return contract
    return None


def pandera_schema(contract: Contract) -> pa.DataFrameSchema:
    """The pandera model of the contract's typed rows (uniqueness is checked separately)."""
    import pandera.polars as pa  # imported when used: the ingest itself runs in SQL

    columns: dict[str, pa.Column] = {}
    for column in contract.columns:
        checks: list[pa.Check] = []
        if column.logical_type == "string":
            checks.append(pa.Check.str_matches(PRINTABLE_TEXT, error=sentence(column, "control")))
        if column.logical_type == "number":
            checks.append(_finite_check(column, pa))
        if column.pattern is not None:
            # `\d` is any Unicode digit to polars and an ASCII digit to DuckDB: ASCII it is
            ascii_pattern = column.pattern.replace("\\d", "[0-9]")
            checks.append(pa.Check.str_matches(ascii_pattern, error=sentence(column, "pattern")))
        if column.minimum is not None:
            checks.append(pa.Check.ge(column.minimum, error=sentence(column, "minimum")))
        if column.maximum is not None:
            checks.append(pa.Check.le(column.maximum, error=sentence(column, "maximum")))
        allowed = column.allowed_values()
        if allowed is not None:
            typed = _typed_values(column, allowed)
            checks.append(pa.Check.isin(typed, error=sentence(column, "allowed")))
        columns[column.name] = pa.Column(column.dtype, checks=checks, nullable=not column.required)
    return pa.DataFrameSchema(columns, name=contract.id, strict=False)


def _typed_values(column: Column, values: list[str]) -> list[Any]:
    """`values` as the column's type (a date in its format); ValueError on one that is not."""
    text = pl.Series(values, dtype=pl.String)
    try:
        if column.logical_type == "date":  # polars has no String->Date cast: parse
            return text.str.to_date(column.date_format or "%Y-%m-%d").to_list()
        return text.cast(column.dtype).to_list()
    except pl.exceptions.PolarsError:
        raise ValueError(
            f"column {column.name}: the valid values {values} are not all {column.logical_type}s"
        ) from None


def _finite_check(column: Column, pa: Any) -> Any:
    """Infinity is never a value; NaN is none either: a required column reports it as empty."""

    def finite(data: Any) -> pl.LazyFrame:
        value = pl.col(data.key)
        ok = value.is_finite() | value.is_nan() if column.required else value.is_finite()
        return data.lazyframe.select(ok)

    return pa.Check(finite, error=sentence(column, "finite"))


def key_sentence(contract: Contract, keys: tuple[str, ...]) -> str:
    """The sentence for a repeated key: the key column's own, when the key is one column."""
    by_name = {c.name: c for c in contract.columns}
    own = by_name[keys[0]] if len(keys) == 1 else Column(" + ".join(keys), "string", "")
    return sentence(own, "unique")


@dataclass(frozen=True)
class Validated:
    """Rows split by the contract: typed rows to stage, and rows to quarantine with reasons."""

    valid: pl.DataFrame
    quarantined: pl.DataFrame


def _cast(column: Column, values: pl.Expr) -> pl.Expr:
    text = values.str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    if column.logical_type == "string":
        return text
    if column.logical_type == "date":
        return text.str.strptime(pl.Date, column.date_format or "%Y-%m-%d", strict=False)
    if column.logical_type == "boolean":
        lowered = text.str.to_lowercase()
        return (
            pl.when(lowered.is_in(["true", "1", "yes"]))
            .then(True)
            .when(lowered.is_in(["false", "0", "no"]))
            .then(False)
        )
    return text.cast(column.dtype, strict=False)


def validate(frame: pl.DataFrame, contract: Contract, keep: list[str] | None = None) -> Validated:
    """Type `frame` (all strings, as received) by the contract and split it.

    `keep` names extra columns (provenance) carried through to both outputs unchanged.
    A row whose value cannot be typed, fails a check, or repeats a key seen earlier in the
    frame goes to quarantine with one reason per problem; every other row is staged.
    """
    missing = [name for name in contract.column_names if name not in frame.columns]
    if missing:
        raise ContractViolation(f"{contract.id}: missing column(s) {', '.join(missing)}")
    keep = keep or []
    frame = frame.with_row_index("_idx")
    typed_columns = [c for c in contract.columns if c.logical_type != "string"]
    # One select holds each typed value beside the text it came from (no horizontal concat).
    both = frame.select(
        "_idx",
        *keep,
        *[_cast(column, pl.col(column.name)).alias(column.name) for column in contract.columns],
        *[pl.col(c.name).alias(f"_raw_{c.name}") for c in typed_columns],
    )
    typed = both.select("_idx", *keep, *contract.column_names)
    reasons: list[pl.DataFrame] = []
    for column in typed_columns:
        raw_text = pl.col(f"_raw_{column.name}")
        failed = both.filter(
            raw_text.is_not_null()
            & (raw_text.str.strip_chars() != "")
            & pl.col(column.name).is_null()
        ).select(
            "_idx",
            pl.lit(column.name).alias("_column"),
            pl.concat_str(
                pl.lit(f"{column.name}: {sentence(column, 'type')} (got "),
                raw_text.str.strip_chars().str.slice(0, 40),
                pl.lit(")"),
            ).alias("reason"),
        )
        reasons.append(failed)
    # A number's failure quotes its text as received (trimmed), not the typed value, which
    # each engine writes its own way (-1e-07 or -1e-7).
    numbers = [c.name for c in typed_columns if c.logical_type == "number"]
    received = both.select(
        "_idx", *[pl.col(f"_raw_{n}").str.strip_chars().alias(n) for n in numbers]
    ).unpivot(index="_idx", variable_name="_column", value_name="_received")
    del both
    empty = pl.DataFrame(schema={"_idx": pl.UInt32, "_column": pl.String, "reason": pl.String})
    cast_failed = pl.concat(reasons) if reasons else empty
    reasons = [cast_failed]
    from pandera.errors import SchemaErrors

    try:
        pandera_schema(contract).validate(typed, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        if cases.filter(pl.col("index").is_null()).height:
            summary = cases.filter(pl.col("index").is_null()).select("column", "check").rows()
            raise ContractViolation(f"{contract.id}: schema-level failure {summary}") from errors
        required = {c.name: sentence(c, "required") for c in contract.columns}
        checked = cases.with_columns(
            pl.col("index").cast(pl.UInt32).alias("_idx"), pl.col("column").alias("_column")
        ).join(received, on=["_idx", "_column"], how="left")
        checked = checked.select(
            "_idx",
            "_column",
            pl.when(pl.col("check") == "not_nullable")
            .then(pl.format("{}: {}", pl.col("column"), pl.col("column").replace(required)))
            .otherwise(
                pl.format(
                    "{}: {} (got {})",
                    pl.col("column"),
                    pl.col("check"),
                    pl.coalesce("_received", pl.col("failure_case").cast(pl.String)).str.slice(
                        0, 40
                    ),
                )
            )
            .alias("reason"),
        )
        # A value that could not be typed is null now; its not-null failure says nothing new.
        reasons.append(checked.join(cast_failed, on=["_idx", "_column"], how="anti"))
    key_sets: list[tuple[str, ...]] = [(c.name,) for c in contract.columns if c.unique]
    if len(contract.primary_key) > 1:
        key_sets.append(contract.primary_key)
    for keys in key_sets:
        present = typed.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
        first = present.group_by(keys).agg(pl.col("_idx").min().alias("_first"))
        label = " + ".join(keys)
        said = f"{label}: {key_sentence(contract, keys)} (row "
        dupes = (
            present.join(first, on=list(keys))
            .filter(pl.col("_idx") != pl.col("_first"))
            .select(
                "_idx",
                pl.lit(label).alias("_column"),
                pl.format("{}{})", pl.lit(said), pl.col("_first") + 1).alias("reason"),
            )
        )
        reasons.append(dupes)
    all_reasons = (
        pl.concat(reasons)
        .select("_idx", "reason")
        .unique()
        .sort("_idx", "reason")
        .group_by("_idx", maintain_order=True)
        .agg(pl.col("reason").alias(REASONS_COLUMN))
    )
    bad = all_reasons.get_column("_idx")
    valid = typed.filter(~pl.col("_idx").is_in(bad.implode())).drop("_idx")
    quarantined = (
        frame.select("_idx", *keep, *contract.column_names)
        .join(all_reasons, on="_idx", how="inner")
        .sort("_idx")
        .drop("_idx")
    )
    return Validated(valid=valid, quarantined=quarantined)
