-- Repeat reports and known outages.

-- What makes a report a repeat of an open ticket: its fault number, or its caller's phone and category.
-- A key is held while its ticket is open (until CLOSED or CANCELLED); the primary key makes
-- concurrent identical reports agree on one ticket.
CREATE TABLE intake.open_reports (
    report_key text PRIMARY KEY,
    ticket_id  text NOT NULL,
    held_since timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX open_reports_ticket ON intake.open_reports (ticket_id);

-- A request that was a repeat points at the ticket it repeated: many requests, one ticket.
ALTER TABLE intake.requests ADD COLUMN repeat boolean NOT NULL DEFAULT false;
ALTER TABLE intake.requests DROP CONSTRAINT requests_ticket_id_key;
CREATE INDEX requests_ticket ON intake.requests (ticket_id);

-- Known outages (已修复 / 受工程影响): reports they match are linked to them, not dispatched.
CREATE TABLE intake.outages (
    outage_id   text PRIMARY KEY,
    request_id  text NOT NULL UNIQUE,
    exchanges   text[] NOT NULL DEFAULT '{}',  -- fault-number prefixes
    categories  text[] NOT NULL DEFAULT '{}',
    regions     text[] NOT NULL DEFAULT '{}',
    cause       text NOT NULL,
    eta         timestamptz,
    active      boolean NOT NULL DEFAULT true,
    declared_at timestamptz NOT NULL,
    resolved_at timestamptz,
    resolution  text NOT NULL DEFAULT ''
);
CREATE INDEX outages_active ON intake.outages (active) WHERE active;

CREATE TABLE intake.outage_tickets (
    outage_id text NOT NULL REFERENCES intake.outages,
    ticket_id text NOT NULL,
    PRIMARY KEY (outage_id, ticket_id)
);
