-- audit.mart_validations
-- Grain: one row per month-partitioned mart and month it holds. Key: mart, month.
-- The ledger of Great Expectations validations by month (assets/marts/validation_scope.py): the
-- run that last validated each month of each mart, the suite it used (sha256 of the mart's
-- contract and of the code deriving the suite), and whether every expectation held. A monthly
-- run validates its months only and relies on this ledger for the others.
create table if not exists audit.mart_validations (
    mart varchar,
    month date,
    run_id varchar,
    validated_at timestamp with time zone,
    suite_sha256 varchar,
    success boolean,
    validated_months varchar
);
