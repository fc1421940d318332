-- Callback attempts: the after-care policy, each callback's attempt and request id, and the surveyors' queue.

-- One row ('default'): attempts and their spacing, the survey's window and kinds, the investigation's
-- deadline and calendar, the archive's day. Changed at run time; a ticket reads it when it needs it.
CREATE TABLE survey.policies (
    policy_id                 text PRIMARY KEY,
    callback_attempts         integer NOT NULL CHECK (callback_attempts >= 1),
    callback_interval_seconds double precision NOT NULL CHECK (callback_interval_seconds >= 0),
    surveyed_kinds            text[] NOT NULL,
    survey_window_seconds     double precision NOT NULL CHECK (survey_window_seconds > 0),
    investigation_seconds     double precision NOT NULL CHECK (investigation_seconds > 0),
    investigation_calendar    text NOT NULL,
    warning_percent           integer NOT NULL CHECK (warning_percent BETWEEN 1 AND 99),
    time_zone                 text NOT NULL,
    archive_delay_seconds     double precision NOT NULL CHECK (archive_delay_seconds >= 0),
    version                   bigint NOT NULL DEFAULT 1,
    updated_at                timestamptz NOT NULL DEFAULT now()
);
INSERT INTO survey.policies (policy_id, callback_attempts, callback_interval_seconds, surveyed_kinds,
    survey_window_seconds, investigation_seconds, investigation_calendar, warning_percent, time_zone,
    archive_delay_seconds)
VALUES ('default', 3, 7200, '{FAULT}', 259200, 28800, 'BUSINESS_5X8', 80, 'Asia/Shanghai', 0);

ALTER TABLE survey.callbacks ADD COLUMN request_id text NOT NULL DEFAULT '';
ALTER TABLE survey.callbacks ADD COLUMN attempt integer NOT NULL DEFAULT 0;

-- Tickets awaiting a callback, kept by the ticket workflow's persisting step; earliest deadline first.
CREATE TABLE survey.pending_callbacks (
    ticket_id       text PRIMARY KEY,
    due_at          timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    max_attempts    integer NOT NULL,
    next_attempt_at timestamptz,
    ticket          jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_callbacks_due ON survey.pending_callbacks (due_at, ticket_id);
