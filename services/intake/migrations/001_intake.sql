-- Intake owns the idempotency keys of reports and the read model of tickets the workflow writes.
CREATE SCHEMA IF NOT EXISTS intake;

CREATE SEQUENCE intake.ticket_number;

-- One row per accepted request_id: a retry finds its ticket here, also long after the workflow is gone.
CREATE TABLE intake.requests (
    request_id  text PRIMARY KEY,
    ticket_id   text NOT NULL UNIQUE,
    fingerprint bytea NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE intake.tickets (
    ticket_id  text PRIMARY KEY,
    request_id text NOT NULL,
    status     text NOT NULL,
    team_id    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    view       jsonb NOT NULL
);
CREATE INDEX tickets_created ON intake.tickets (created_at DESC, ticket_id DESC);
CREATE INDEX tickets_status ON intake.tickets (status, created_at DESC);
CREATE INDEX tickets_team ON intake.tickets (team_id, created_at DESC);

-- The ticket's timeline: every event the workflow decided, in sequence order, each once.
CREATE TABLE intake.timeline (
    ticket_id   text NOT NULL,
    sequence    bigint NOT NULL,
    event_id    text NOT NULL UNIQUE,
    type        text NOT NULL,
    actor       text NOT NULL,
    occurred_at timestamptz NOT NULL,
    reason      text NOT NULL DEFAULT '',
    payload     jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (ticket_id, sequence)
);
