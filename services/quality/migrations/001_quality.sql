-- Quality inspection (质检): the workload ledger built from the events, the daily sampling runs, spot
-- checks, inspections with their scorecards, the weekly reports, and the outbox of quality.* events.
CREATE SCHEMA quality;

-- Events the ledger has applied, by id: a redelivered or replayed event is applied once.
CREATE TABLE quality.applied_events (
    event_id   text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per handled item of someone's work (services/quality/workload.py decides which events are
-- items, of which post and person). position orders the ledger: a run sees the items up to its own.
CREATE TABLE quality.items (
    position    bigserial PRIMARY KEY,
    item_id     text NOT NULL UNIQUE,
    day         date NOT NULL,                 -- the desk's local day of occurred_at
    post        text NOT NULL,                 -- AGENT, SENIOR_AGENT, SURVEYOR, DATA_MANAGER, STATISTICIAN
    staff_id    text NOT NULL,
    kind        text NOT NULL,                 -- RECORD, DISPATCH, REVIEW, CALLBACK, …
    ticket_id   text NOT NULL DEFAULT '',
    team_id     text NOT NULL DEFAULT '',
    event_id    text NOT NULL,
    occurred_at timestamptz NOT NULL,
    detail      text NOT NULL DEFAULT '',
    -- For a review: the junior agent whose dispatch was graded, and the outcome (APPROVED, REJECTED).
    subject_staff_id text NOT NULL DEFAULT '',
    outcome     text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX items_day ON quality.items (day, post, staff_id);
CREATE INDEX items_ticket ON quality.items (ticket_id) WHERE ticket_id <> '';
CREATE INDEX items_occurred ON quality.items (occurred_at);

-- One daily sampling run per day: what it saw and what it drew. Never changed once written.
CREATE TABLE quality.runs (
    day             date PRIMARY KEY,
    key_id          text NOT NULL,
    rate_per_mille  integer NOT NULL,
    ledger_position bigint NOT NULL,
    population      jsonb NOT NULL,            -- [{post, staff_id, items, sampled}], per post and person
    ran_at          timestamptz NOT NULL DEFAULT now()
);

-- What an inspector is to look at: the items a daily run drew and those spot checks drew.
CREATE TABLE quality.samples (
    day       date NOT NULL REFERENCES quality.runs (day),
    item_id   text NOT NULL REFERENCES quality.items (item_id),
    PRIMARY KEY (day, item_id)
);

CREATE TABLE quality.spot_checks (
    spot_check_id text PRIMARY KEY,
    request_id    text NOT NULL UNIQUE,
    reason        text NOT NULL,
    scope         jsonb NOT NULL,              -- the slice asked for: ticket, person, team, post, window, size
    population    integer NOT NULL,
    requested_by  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE quality.spot_check_items (
    spot_check_id text NOT NULL REFERENCES quality.spot_checks (spot_check_id),
    item_id       text NOT NULL REFERENCES quality.items (item_id),
    PRIMARY KEY (spot_check_id, item_id)
);
CREATE INDEX spot_check_items_item ON quality.spot_check_items (item_id);

-- One inspection per item, ever: another request id for an inspected item is ALREADY_EXISTS.
CREATE TABLE quality.inspections (
    inspection_id text PRIMARY KEY,
    item_id       text NOT NULL UNIQUE REFERENCES quality.items (item_id),
    request_id    text NOT NULL UNIQUE,
    origin        text NOT NULL,               -- DAILY, SPOT
    inspector     text NOT NULL,
    score         integer NOT NULL,
    scores        jsonb NOT NULL,              -- [{criterion, score, note}]
    violations    jsonb NOT NULL,              -- [{code, note, violation_id}]
    findings      text NOT NULL DEFAULT '',
    inspected_at  timestamptz NOT NULL DEFAULT now(),
    -- Set once the violations are in the violations ledger (dispatch's): a hand-off not done yet is
    -- retried by the quality service.
    violations_recorded_at timestamptz
);
CREATE INDEX inspections_inspected ON quality.inspections (inspected_at);

-- Weekly QA reports (每周质检分析报告): written once, when the week is over; never changed.
CREATE TABLE quality.reports (
    week         text PRIMARY KEY,             -- ISO week, 2026-W48
    report       jsonb NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now()
);

-- quality.* events wait here for the quality relay (desk/outbox_relay.py), as intake's do.
CREATE TABLE quality.outbox (
    position bigserial PRIMARY KEY,
    event    jsonb NOT NULL,
    trace    jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE quality.dead_letters (
    letter_id  bigserial PRIMARY KEY,
    position   bigint NOT NULL,
    event      jsonb NOT NULL,
    trace      jsonb NOT NULL DEFAULT '{}',
    error      text NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now()
);
