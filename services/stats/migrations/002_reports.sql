-- Statistics reports (seed 002 七): stored once when generated and never changed after (a trigger
-- refuses it), the late corrections each one carries, and the outbox of report.* events.
CREATE SCHEMA IF NOT EXISTS stats;

CREATE TABLE stats.reports (
    report_id    text PRIMARY KEY,               -- WEEKLY-2026-W48, MONTHLY-2026-11, MONTHLY21-2026-11-21 …
    period       text NOT NULL,                  -- WEEKLY, MONTHLY, QUARTERLY, YEARLY
    boundary     text NOT NULL,                  -- CALENDAR, DAY_21 (weekly: CALENDAR)
    first_day    date NOT NULL,
    last_day     date NOT NULL,
    report       jsonb NOT NULL,                 -- the Report message's JSON, as GetReport answers it
    -- The counts it froze, one number per measure (services/stats/report_wire.py measures): what a late
    -- event is compared against when a later report of the same period and boundary is generated.
    measures     jsonb NOT NULL,
    generated_by text NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_kind ON stats.reports (period, boundary, first_day);
CREATE INDEX reports_newest ON stats.reports (first_day DESC, report_id DESC);

-- One row per period kind and boundary. Generating a report updates its row first, in a repeatable
-- read transaction: generations of one kind run one at a time, and one that waited for another fails
-- to serialize and starts again on a snapshot that sees the other's report and corrections.
CREATE TABLE stats.report_series (
    period      text NOT NULL,
    boundary    text NOT NULL,
    generations bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (period, boundary)
);

-- Each late correction a report carries: how much one measure of an earlier report (of the same
-- period and boundary) changed since that report and the corrections before this one.
CREATE TABLE stats.late_corrections (
    report_id           text NOT NULL REFERENCES stats.reports (report_id),  -- carried by
    corrected_report_id text NOT NULL REFERENCES stats.reports (report_id),
    measure             text NOT NULL,
    delta               bigint NOT NULL,
    PRIMARY KEY (report_id, corrected_report_id, measure)
);
CREATE INDEX late_corrections_of ON stats.late_corrections (corrected_report_id);

CREATE FUNCTION stats.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a generated report never changes (%.%)', TG_TABLE_SCHEMA, TG_TABLE_NAME;
END $$;
CREATE TRIGGER reports_frozen BEFORE UPDATE OR DELETE ON stats.reports
    FOR EACH ROW EXECUTE FUNCTION stats.refuse_change();
CREATE TRIGGER late_corrections_frozen BEFORE UPDATE OR DELETE ON stats.late_corrections
    FOR EACH ROW EXECUTE FUNCTION stats.refuse_change();

-- Each stored report's roll-ups as last seen: a hash of the roll-up rows of its days (every column,
-- so a count moved between keys changes it too). When a later report of its kind is generated, only
-- the earlier reports whose hash changed are worked out again for late corrections. Updated as they
-- are (not part of the frozen report).
CREATE TABLE stats.report_rollups_seen (
    report_id   text PRIMARY KEY REFERENCES stats.reports (report_id),
    fingerprint bigint NOT NULL
);

-- report.* events wait here for the stats relay (desk/outbox_relay.py), as quality's do.
CREATE TABLE stats.outbox (
    position bigserial PRIMARY KEY,
    event    jsonb NOT NULL,
    trace    jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE stats.dead_letters (
    letter_id  bigserial PRIMARY KEY,
    position   bigint NOT NULL,
    event      jsonb NOT NULL,
    trace      jsonb NOT NULL DEFAULT '{}',
    error      text NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now()
);
