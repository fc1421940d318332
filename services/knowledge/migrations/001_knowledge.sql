-- The knowledge base (知识库): entries with every version kept, the hard cases proposed for it, and
-- the outbox its events wait in for the knowledge relay (desk/outbox_relay.py), as intake's do.
CREATE SCHEMA knowledge;

-- One row per entry: its current version's text and the words search looks up (services/knowledge/
-- segmentation.py makes them: jieba's words and the text's CJK bigrams, since pg_trgm and the built-in
-- parsers see no words inside Chinese sentences on this cluster).
CREATE TABLE knowledge.entries (
    entry_id       text PRIMARY KEY,
    request_id     text UNIQUE,
    status         text NOT NULL,              -- PUBLISHED, RETIRED
    version        integer NOT NULL,
    title          text NOT NULL,
    body           text NOT NULL,
    category       text NOT NULL DEFAULT '',
    tags           text[] NOT NULL DEFAULT '{}',
    ticket_id      text NOT NULL DEFAULT '',
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    retired_at     timestamptz,
    retired_by     text NOT NULL DEFAULT '',
    retired_reason text NOT NULL DEFAULT '',
    events         integer NOT NULL DEFAULT 0,  -- the last sequence number of the entry's events
    words          tsvector NOT NULL
);
CREATE INDEX entries_words ON knowledge.entries USING gin (words) WHERE status = 'PUBLISHED';
CREATE INDEX entries_ticket ON knowledge.entries (ticket_id) WHERE ticket_id <> '';

-- Every version as written, the current one included; never changed once written.
CREATE TABLE knowledge.versions (
    entry_id   text NOT NULL REFERENCES knowledge.entries,
    version    integer NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    category   text NOT NULL,
    tags       text[] NOT NULL,
    note       text NOT NULL DEFAULT '',
    written_by text NOT NULL,
    written_at timestamptz NOT NULL,
    PRIMARY KEY (entry_id, version)
);

-- Hard cases a senior agent proposed (seed 002 三.3), each due as an entry within half a working day
-- (五.二); the workflow knowledge/<ticket_id> raises its warning and overdue.
CREATE TABLE knowledge.candidates (
    ticket_id   text PRIMARY KEY,
    proposed_by text NOT NULL,
    proposed_at timestamptz NOT NULL,
    note        text NOT NULL DEFAULT '',
    state       text NOT NULL,                 -- PENDING, WARNED, OVERDUE, MET
    warn_at     timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    entry_id    text NOT NULL DEFAULT '',
    met_at      timestamptz,
    events      integer NOT NULL DEFAULT 0
);
CREATE INDEX candidates_open ON knowledge.candidates (due_at) WHERE state <> 'MET';

CREATE TABLE knowledge.outbox (
    position bigserial PRIMARY KEY,
    event    jsonb NOT NULL,
    trace    jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE knowledge.dead_letters (
    letter_id  bigserial PRIMARY KEY,
    position   bigint NOT NULL,
    event      jsonb NOT NULL,
    trace      jsonb NOT NULL DEFAULT '{}',
    error      text NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now()
);
