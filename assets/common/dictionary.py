"""The data dictionary, written from the data contracts and the SQL files (never by hand).

Every table and view of every layer is described once, in one of three ways:
- a contract whose `physicalName` is the table (core, marts, audit, and the staging and raw tables
  not fed by a CSV source) gives its columns with their DuckDB types;
- a CSV source's contract gives three tables: `raw.<dataset>` (its columns as received text, with
  provenance), `staging.<dataset>` (the staging SQL run over the contract's typed columns, in an
  empty in-memory database, so the columns are the ones the SQL really makes) and
  `quarantine.<dataset>` (the raw columns with the reasons);
- a macro in `sql/core` is described by its file's header comment.
A test builds the demo warehouse and compares it with `tables()`, column by column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import takewhile

import duckdb

from assets.common import sql
from assets.common.contracts import Column, Contract, list_contracts, load_contract
from assets.common.ingest import PARTITION_COLUMN
from assets.common.paths import SQL_DIR
from assets.common.raw import PROVENANCE_COLUMNS

HEADER = """# Data dictionary

Generated from `data_contracts/` and `sql/` by `make dictionary`; do not edit by hand. A test
fails when this file and the contracts disagree, and when a table of the demo warehouse is
missing here or its columns differ.
"""

LAYER_TEXT = {
    "raw": "Files as received: every value as text, each row with its provenance.",
    "staging": "Rows that passed their contract, typed; parsed sanctions lists and extracts.",
    "core": "Resolved entities and facts the marts build on (`sql/core`; matches from Python).",
    "marts": "The tables analysts query, one SQL file each (`sql/marts`), checked before "
    "publication.",
    "quarantine": "Rows that broke their contract, every value as received, with every reason.",
    "audit": "What the pipeline did: files loaded, refused or held, approvals, alerts, quality "
    "results, the step log and publications.",
}

# The columns `raw.<dataset>` adds to the file's (assets/common/ingest.py, _store_raw).
_PROVENANCE = {
    "source_file": ("VARCHAR", "Landing file the row came from (its path in the landing area)."),
    "source_sha256": ("VARCHAR", "SHA-256 of that file's bytes."),
    "source_encoding": ("VARCHAR", "Encoding the file was read in."),
    "source_row_number": ("BIGINT", "Record number in the file (1 = first after the header)."),
    "loaded_at": ("TIMESTAMP WITH TIME ZONE", "When the file was stored in raw."),
}
_PARTITION = ("VARCHAR", "Month (YYYY-MM) of the delivery the row came in.")
_QUARANTINE = {
    "reasons": ("VARCHAR[]", "Every rule the row broke, one sentence each ('column: sentence')."),
    "quarantined_at": ("TIMESTAMP WITH TIME ZONE", "When the row was quarantined."),
}
_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "date": "DATE",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}
_GRAIN = re.compile(r"Grain: (.*?)\.(?:\s|$)")
_KEYS = re.compile(r"Keys?: (.*?)\.(?:\s|$)")


@dataclass(frozen=True)
class DocColumn:
    """One column as the dictionary shows it."""

    name: str
    type: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class TableDoc:
    """One table of the warehouse as the dictionary shows it."""

    layer: str
    name: str
    title: str
    description: str
    grain: str
    keys: tuple[str, ...] | str
    source: str
    columns: tuple[DocColumn, ...]
    rules: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{self.layer}.{self.name}"


def _is_table(contract: Contract) -> bool:
    layer, _, table = contract.physical_name.partition(".")
    return layer in sql.LAYERS and bool(table)


def _with_rules(column: Column) -> str:
    rules = []
    if column.pattern:
        rules.append(f"pattern `{column.pattern}`")
    if column.minimum is not None:
        rules.append(f">= {column.minimum}")
    if column.reference_set:
        rules.append(f"in {column.reference_set}")
    if column.valid_values:
        rules.append(f"one of {', '.join(column.valid_values)}")
    text = " ".join(column.description.split())
    return text + (f" ({'; '.join(rules)})" if rules else "")


def _contract_table(contract: Contract) -> TableDoc:
    """A table its own contract describes: the contract's columns, with their DuckDB types."""
    layer, _, name = contract.physical_name.partition(".")
    missing = [c.name for c in contract.columns if not c.physical_type]
    if missing:
        raise ValueError(f"{contract.id}: no physicalType for {', '.join(missing)}")
    columns = tuple(
        DocColumn(c.name, str(c.physical_type), _with_rules(c), c.required)
        for c in contract.columns
    )
    return TableDoc(
        layer=layer,
        name=name,
        title=contract.name,
        description=contract.description,
        grain=contract.grain,
        keys=contract.primary_key or "none",
        source=f"contract `{contract.id}` v{contract.version}",
        columns=columns,
        rules=tuple(_dataset_rules(contract)),
    )


def _received(contract: Contract) -> list[DocColumn]:
    """`raw.<dataset>`'s columns: the file's, as text, then provenance (and the month)."""
    columns = [
        DocColumn(c.name, "VARCHAR", f"{' '.join(c.description.split())} As received (text).")
        for c in contract.columns
    ]
    columns += [DocColumn(name, kind, text) for name, (kind, text) in _PROVENANCE.items()]
    if list(_PROVENANCE) != PROVENANCE_COLUMNS:
        raise ValueError("the provenance columns of raw changed: describe them in _PROVENANCE")
    if contract.custom["source"].get("partitioning") == "monthly":
        columns.append(DocColumn(PARTITION_COLUMN, *_PARTITION))
    return columns


def grain_and_keys(layer: str, table: str) -> tuple[str, str]:
    """(grain, keys) from a SQL file's header comment."""
    lines = (SQL_DIR / layer / f"{table}.sql").read_text(encoding="utf-8").splitlines()
    header = takewhile(lambda line: line.startswith("--"), lines)
    text = " ".join(line.removeprefix("--").strip() for line in header)
    grain, keys = _GRAIN.search(text), _KEYS.search(text)
    return (grain.group(1) if grain else "", keys.group(1) if keys else "")


def _staged(contract: Contract) -> list[DocColumn]:
    """`staging.<dataset>`'s columns: its SQL file described over the contract's typed rows."""
    source = contract.custom["source"]
    typed = [
        f"null::{_DUCKDB_TYPES[c.logical_type]} as {sql.quote_ident(c.name)}"
        for c in contract.columns
    ]
    typed += [
        f"null::boolean as {sql.quote_ident(c.name + '_valid')}"
        for c in contract.columns
        if c.identifier_scheme
    ]
    typed += [f"null::{kind} as {name}" for name, (kind, _) in _PROVENANCE.items()]
    typed.append(f"null::{_PARTITION[0]} as {PARTITION_COLUMN}")
    con = duckdb.connect()
    try:
        con.execute(f"create table validated as select {', '.join(typed)} limit 0")
        described = con.execute(
            f"describe {sql.load('staging', contract.id)}", source.get("sql_parameters") or {}
        ).fetchall()
    finally:
        con.close()
    own = {c.name: c for c in contract.columns}
    added = contract.custom.get("stagingColumns") or {}
    columns = []
    for name, kind, *_ in described:
        if name in own:
            text, required = _with_rules(own[name]), own[name].required
        elif name in added:
            text, required = " ".join(str(added[name]).split()), False
        elif name.endswith("_valid") and name.removesuffix("_valid") in own:
            checked = own[name.removesuffix("_valid")]
            text = f"Whether {checked.name} passes its check digits ({checked.identifier_scheme})."
            required = False
        elif name in _PROVENANCE or name == PARTITION_COLUMN:
            text = (_PROVENANCE.get(name) or _PARTITION)[1]
            required = False
        else:
            raise ValueError(
                f"staging.{contract.id}.{name}: describe it in data_contracts/{contract.id}.yaml "
                "(customProperties: stagingColumns)"
            )
        columns.append(DocColumn(name, kind, text, required))
    return columns


def _source_tables(contract: Contract) -> list[TableDoc]:
    """The raw, staging and quarantine tables of a CSV source, from its one contract."""
    origin = f"contract `{contract.id}` v{contract.version} (the dataset's)"
    received = _received(contract)
    monthly = contract.custom["source"].get("partitioning") == "monthly"
    grain, keys = grain_and_keys("staging", contract.id)
    provenance_key = ("source_file", "source_row_number")
    return [
        TableDoc(
            layer="raw",
            name=contract.id,
            title=f"{contract.name}, as received",
            description=f"Every record of every file of `{contract.id}` stored, every value as "
            "text exactly as received, with the file it came from. "
            + (
                "A redelivered month replaces that month's rows."
                if monthly
                else "A new delivery replaces the table."
            ),
            grain="one row per record received",
            keys=provenance_key,
            source=origin,
            columns=tuple(received),
        ),
        TableDoc(
            layer="staging",
            name=contract.id,
            title=contract.name,
            description=contract.description,
            grain=grain,
            keys=keys or contract.primary_key or "none",
            source=f"{origin} and `sql/staging/{contract.id}.sql`",
            columns=tuple(_staged(contract)),
            rules=tuple(_dataset_rules(contract)),
        ),
        TableDoc(
            layer="quarantine",
            name=contract.id,
            title=f"{contract.name}: rows that broke the contract",
            description=f"The received rows of `{contract.id}` that were not staged, every "
            "value as received, with every reason. Received rows = staged rows + "
            "quarantined rows (a blocking check).",
            grain="one row per record received that broke a rule",
            keys=provenance_key,
            source=origin,
            columns=(
                *received,
                *(DocColumn(name, kind, text) for name, (kind, text) in _QUARANTINE.items()),
            ),
        ),
    ]


def tables() -> list[TableDoc]:
    """Every table of the warehouse the contracts describe, by layer and name."""
    found: list[TableDoc] = []
    for contract_id in list_contracts():
        contract = load_contract(contract_id)
        if "source" in contract.custom:
            found += _source_tables(contract)
        elif _is_table(contract):
            found.append(_contract_table(contract))
    order = {layer: number for number, layer in enumerate(LAYER_TEXT)}
    return sorted(found, key=lambda t: (order[t.layer], t.name))


def macros() -> list[tuple[str, str]]:
    """(signature, what it does) of each macro in `sql/core`, from its file's header comment."""
    found = []
    for path in sorted((SQL_DIR / "core").glob("*.sql")):
        lines = path.read_text(encoding="utf-8").splitlines()
        header = list(takewhile(lambda line: line.startswith("--"), lines))
        body = "\n".join(lines[len(header) :]).lstrip().lower()
        if body.startswith("create or replace macro"):
            text = " ".join(line.removeprefix("--").strip() for line in header)
            signature, _, said = text.partition(": ")
            said, _, usage = said.partition(" Usage: ")
            found.append((signature, said + (f" Usage: `{usage}`" if usage else "")))
    return found


def _table_section(doc: TableDoc) -> list[str]:
    parts = [f"\n### `{doc.qualified}`: {doc.title}\n"]
    if doc.description:
        parts.append(f"\n{' '.join(doc.description.split())}\n")
    keys = doc.keys if isinstance(doc.keys, str) else ", ".join(doc.keys)
    parts.append(f"\nGrain: {doc.grain}. Keys: {keys}. From {doc.source}.\n")
    parts.append("\n| column | type | required | description |\n| --- | --- | --- | --- |\n")
    for column in doc.columns:
        text = column.description.replace("|", "\\|")
        required = "yes" if column.required else ""
        parts.append(f"| {column.name} | {column.type.replace('|', '/')} | {required} | {text} |\n")
    if doc.rules:
        parts += ["\nRules beyond one file (see `assets/common/dataset_rules.py`):\n\n", *doc.rules]
    return parts


def _file_section(contract: Contract) -> list[str]:
    """A contract for a file people write (approvals), not for a table."""
    parts = [f"\n### `{contract.physical_name}`: {contract.name}\n"]
    if contract.description:
        parts.append(f"\n{' '.join(contract.description.split())}\n")
    keys = ", ".join(contract.primary_key) or "none"
    parts.append(
        f"\nGrain: {contract.grain}. Keys: {keys}. From contract `{contract.id}` "
        f"v{contract.version}.\n"
    )
    parts.append("\n| column | type | required | description |\n| --- | --- | --- | --- |\n")
    for column in contract.columns:
        text = _with_rules(column).replace("|", "\\|")
        required = "yes" if column.required else ""
        parts.append(f"| {column.name} | {column.logical_type} | {required} | {text} |\n")
    return parts


def render() -> str:
    """Markdown: one section per layer, one per table in it, one row per column."""
    docs = tables()
    parts = [HEADER, "\n| layer | tables | what it holds |\n| --- | --- | --- |\n"]
    for layer, text in LAYER_TEXT.items():
        count = sum(1 for d in docs if d.layer == layer)
        parts.append(f"| [{layer}](#{layer}) | {count} | {text} |\n")
    for layer, text in LAYER_TEXT.items():
        parts.append(f"\n## {layer}\n\n{text}\n")
        for doc in docs:
            if doc.layer == layer:
                parts += _table_section(doc)
        if layer == "core":
            parts.append("\n### Macros\n\nFunctions kept in `core`, not tables.\n\n")
            parts += [f"- `{name}`: {said}\n" for name, said in macros()]
    files = [load_contract(c) for c in list_contracts()]
    files = [c for c in files if "source" not in c.custom and not _is_table(c)]
    if files:
        parts.append("\n## Files people write\n\nRead from the landing area; not tables.\n")
        for contract in sorted(files, key=lambda c: c.physical_name):
            parts += _file_section(contract)
    return "".join(parts)


def _dataset_rules(contract: Contract) -> list[str]:
    """The rules that judge a row against more than its own file, one line each."""
    lines = []
    for rule in contract.custom.get("datasetRules") or []:
        settings = ", ".join(f"{k}: {v}" for k, v in rule.items() if k != "rule")
        lines.append(f"- `{rule['rule']}`" + (f" ({settings})" if settings else "") + "\n")
    bound = contract.custom.get("volume", {}).get("max_row_loss_share")
    if bound is not None:
        lines.append(
            f"- a redelivery losing more than {bound:.0%} of the rows it replaces is held "
            "until approved (`approvals/delivery_approvals.csv`)\n"
        )
    return lines
