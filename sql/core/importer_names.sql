-- core.importer_names
-- Grain: one row per importer (INN as declared) and declaration month.
-- Keys: importer_inn, declaration_month.
-- Partitioned by month: declaration_month (a run rebuilds the months it covers).
-- The name the importer declared most often that month; ties go to the alphabetically first, so
-- rebuilds agree. The month-partitioned marts take their importer_name from here.
with declared as (
    select
        importer_inn,
        declaration_month,
        importer_name,
        count(*) as declarations
    from core.shipments
    group by importer_inn, declaration_month, importer_name
)

select
    importer_inn,
    declaration_month,
    first(importer_name order by declarations desc, importer_name asc) as importer_name
from declared
group by importer_inn, declaration_month
