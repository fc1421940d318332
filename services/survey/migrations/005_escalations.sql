-- The manager hotline's queue (经理热线): one row per escalation, written by the ticket workflow's
-- persisting step (each write the whole row, so a retried step writes the same again).
CREATE TABLE survey.escalations (
    escalation_id      text PRIMARY KEY,
    ticket_id          text NOT NULL,
    source             text NOT NULL,
    status             text NOT NULL,
    note               text NOT NULL,
    opened_by          text NOT NULL,
    opened_at          timestamptz NOT NULL,
    open_request_id    text NOT NULL DEFAULT '',
    outcome            text NOT NULL DEFAULT '',
    responsibility     text NOT NULL DEFAULT '',
    resolution_note    text NOT NULL DEFAULT '',
    compensation_cents bigint NOT NULL DEFAULT 0 CHECK (compensation_cents >= 0),
    currency           text NOT NULL DEFAULT '',
    hours_overdue      integer NOT NULL DEFAULT 0,
    rule_version       integer NOT NULL DEFAULT 0,
    resolved_by        text NOT NULL DEFAULT '',
    resolved_at        timestamptz,
    resolve_request_id text NOT NULL DEFAULT ''
);

-- The queue as managers read it: open first, then newest.
CREATE INDEX escalations_queue ON survey.escalations ((status <> 'OPEN'), opened_at DESC, escalation_id DESC);
CREATE INDEX escalations_by_ticket ON survey.escalations (ticket_id);
