-- audit.checksum_parts
-- Grain: one row per month-partitioned table and month it holds. Key: table_name, part.
-- The checksum of each month of the tables partitioned by month, kept so that publication hashes
-- only the months a run rewrote (assets/common/table_sums.py). A table's checksum in the
-- manifest is the sum of its months' sums: the same figure a pass over every row gives. Every
-- writer of a partitioned table takes the months it writes out of here before writing them;
-- publication also recounts each month's rows, hashes any month whose count differs, and hashes
-- one kept month of each table again (chosen by the run) to check the sums kept.
-- `signature` names the columns, their types and the DuckDB version the sums were made with;
-- `run_id` the publication that made them (they are used only while it is the file's latest).
create table if not exists audit.checksum_parts (
    table_name varchar,
    part varchar,
    row_count bigint,
    checksum hugeint,
    signature varchar,
    run_id varchar
);
