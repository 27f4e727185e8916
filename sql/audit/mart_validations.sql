-- audit.mart_validations
-- Grain: one row per month-partitioned mart and month it holds, and one per other mart (month
-- null: the whole mart). Key: mart, month.
-- The ledger of Great Expectations validations (assets/marts/validation_scope.py): the run that
-- last validated each month of each mart, or the whole of a mart not partitioned by month, the
-- suite it used (sha256 of the mart's contract and of the code deriving the suite), and whether
-- every expectation held. A monthly run validates its months only, and no run validates again
-- a mart it did not rebuild; both rely on this ledger for the rest.
create table if not exists audit.mart_validations (
    mart varchar,
    month date,
    run_id varchar,
    validated_at timestamp with time zone,
    suite_sha256 varchar,
    success boolean,
    validated_months varchar
);
