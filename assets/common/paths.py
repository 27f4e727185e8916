"""Locations inside the repository that code reads from (not runtime data)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = REPO_ROOT / "sql"
CONTRACTS_DIR = REPO_ROOT / "data_contracts"
REFERENCE_DIR = REPO_ROOT / "reference"
DEMO_BUNDLE_DIR = REPO_ROOT / "demo" / "bundle"
# Real trade-statistics extracts that may not be bundled, beside a checkout (reference/SOURCES.md).
SHARED_TRADE_DIR = REPO_ROOT.parent / "shared" / "reference-data" / "trade"
