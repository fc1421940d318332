-- Dispatch owns ops teams, SLA policies, work orders and the violations ledger.
CREATE SCHEMA IF NOT EXISTS dispatch;

CREATE TABLE dispatch.teams (
    team_id          text PRIMARY KEY,
    name             text NOT NULL,
    categories       text[] NOT NULL DEFAULT '{}',
    regions          text[] NOT NULL DEFAULT '{}',
    calendar         text NOT NULL DEFAULT '24X7',
    time_zone        text NOT NULL DEFAULT 'Asia/Shanghai',
    on_call_contacts text[] NOT NULL DEFAULT '{}',
    active           boolean NOT NULL DEFAULT true,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Empty priority / customer_tier / team_id mean "any"; the most specific match wins.
CREATE TABLE dispatch.sla_policies (
    priority           text NOT NULL DEFAULT '',
    customer_tier      text NOT NULL DEFAULT '',
    team_id            text NOT NULL DEFAULT '',
    response_seconds   double precision NOT NULL CHECK (response_seconds > 0),
    resolution_seconds double precision NOT NULL CHECK (resolution_seconds > 0),
    callback_seconds   double precision NOT NULL CHECK (callback_seconds > 0),
    warning_percent    integer NOT NULL DEFAULT 80 CHECK (warning_percent BETWEEN 1 AND 99),
    calendar           text NOT NULL DEFAULT '24X7',
    version            bigint NOT NULL DEFAULT 1,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (priority, customer_tier, team_id)
);

CREATE TABLE dispatch.work_orders (
    work_order_id text PRIMARY KEY,
    ticket_id     text NOT NULL,
    team_id       text NOT NULL,
    status        text NOT NULL,
    sequence      integer NOT NULL,
    chase_count   integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    record        jsonb NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_orders_team ON dispatch.work_orders (team_id, created_at DESC, work_order_id DESC);
CREATE INDEX work_orders_ticket ON dispatch.work_orders (ticket_id, sequence);

-- One row per missed deadline; the id comes from the workflow, so a retry or replay cannot add a second.
CREATE TABLE dispatch.violations (
    violation_id  text PRIMARY KEY,
    ticket_id     text NOT NULL,
    team_id       text NOT NULL,
    deadline_kind text NOT NULL,
    work_order_id text NOT NULL DEFAULT '',
    due_at        timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL,
    chased        boolean NOT NULL DEFAULT false
);
CREATE INDEX violations_team ON dispatch.violations (team_id, recorded_at);
