-- Known outages matched by index: a report reads only the outages it may fall in, never all of them.
--
-- What each active outage covers, one row per term: an exchange (a fault-number prefix), a category,
-- a region, and '' ("any") in a dimension whose list is empty (services/intake/outages.py,
-- scope_terms). A report looks up its own terms: every prefix of its fault number, its category, its
-- region, each with '' (report_terms); an outage is a candidate when it has a row in all three
-- dimensions, and the earliest declared (then the smaller id) wins. Each lookup is a few probes of
-- the primary key's btree, however many outages are active and however long their lists. Matching a
-- fault number against a list of prefixes becomes equality with one of the number's own prefixes
-- (at most 20), which a btree answers; a prefix operator could not use it.
--
-- Not GIN indexes on the outage's arrays: a handful of active outages is a small table, for which the
-- planner prefers a sequential scan that reads and compares every outage's (possibly long) arrays on
-- each report, the very cost this removes; and "an empty list matches anything" is an OR beside the
-- array operator. The arrays stay in intake.outages, the record the outage's answers show; these
-- rows are only its index, written with the outage and removed when it is resolved,
-- so they never grow with resolved outages.
CREATE TABLE intake.outage_scope (
    dimension text NOT NULL CHECK (dimension IN ('exchange', 'category', 'region')),
    term      text NOT NULL,
    outage_id text NOT NULL REFERENCES intake.outages,
    PRIMARY KEY (dimension, term, outage_id)
);
CREATE INDEX outage_scope_outage ON intake.outage_scope (outage_id);  -- removal at resolution

INSERT INTO intake.outage_scope (dimension, term, outage_id)
SELECT DISTINCT scope.dimension, scope.term, o.outage_id
FROM intake.outages o
CROSS JOIN LATERAL (
    SELECT 'exchange', unnest(CASE WHEN cardinality(o.exchanges) = 0 THEN '{""}' ELSE o.exchanges END)
    UNION ALL
    SELECT 'category', unnest(CASE WHEN cardinality(o.categories) = 0 THEN '{""}' ELSE o.categories END)
    UNION ALL
    SELECT 'region', unnest(CASE WHEN cardinality(o.regions) = 0 THEN '{""}' ELSE o.regions END)
) AS scope (dimension, term)
WHERE o.active;
