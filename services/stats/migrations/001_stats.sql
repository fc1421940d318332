-- Statistics (统计): the read model built from the domain events (services/stats/projection.py).
-- Three layers: the event ids applied; one row of facts per ticket (what the projection needs to
-- decide later events' counters; never read by reports or KPIs); and the per-day roll-ups that
-- reports and KPIs read. docs/statistics-readmodel.md describes each column and rule.
CREATE SCHEMA IF NOT EXISTS stats;

-- Events applied, by id: a redelivered event, or one published again under another Nats-Msg-Id,
-- counts once.
CREATE TABLE stats.applied_events (
    event_id text PRIMARY KEY
);

-- One row of facts per ticket. The dimensions (channel … team) are the ticket's roll-up key now:
-- when the stage or the team changes, the ticket's counters move from the old key to the new one.
CREATE TABLE stats.tickets (
    ticket_id      text PRIMARY KEY,
    created_at     timestamptz NOT NULL,
    created_day    date NOT NULL,                  -- the desk's local day of created_at
    channel        text NOT NULL DEFAULT '',       -- PHONE, IVR, EMAIL, WEB, IM, FAX, API
    kind           text NOT NULL DEFAULT '',       -- FAULT, SERVICE_REQUEST, CONSULTATION, COMPLAINT, …
    customer_tier  text NOT NULL DEFAULT '',       -- STANDARD, VIP
    category       text NOT NULL DEFAULT '',
    priority       text NOT NULL DEFAULT '',       -- P1 … P4
    handling       text NOT NULL DEFAULT '',       -- MANUAL, AUTOMATIC
    stage          text NOT NULL DEFAULT '',       -- IVR, JUNIOR_AGENT, SENIOR_AGENT, OPS_TEAM, MANAGER_HOTLINE
    team_id        text NOT NULL DEFAULT '',       -- the team of the latest dispatch ('' : none)
    agent_id       text NOT NULL DEFAULT '',       -- who recorded it ('' : the IVR or the system)
    first_contact_resolved boolean NOT NULL DEFAULT false,
    record_fields_filled   integer NOT NULL DEFAULT 0,   -- record completeness inputs
    record_fields_total    integer NOT NULL DEFAULT 0,
    first_response_at timestamptz,
    resolved_at       timestamptz,                 -- the first resolution
    closed_at         timestamptz,
    cancelled_at      timestamptz,
    survey_rating     text NOT NULL DEFAULT '',    -- the latest answered round's rating
    resolutions       integer NOT NULL DEFAULT 0,  -- how many times it was resolved (the RESOLUTION/CALLBACK round)
    survey_round      integer NOT NULL DEFAULT 0,
    in_backlog        boolean NOT NULL DEFAULT false,  -- counted open in the backlog now
    desk_stage        text NOT NULL DEFAULT '',    -- the furthest stage reached at the desk (not OPS_TEAM)
    deadlines         jsonb NOT NULL DEFAULT '{}'::jsonb  -- deadline key → MET | MISSED (each counted once)
);

-- Per-day roll-ups. One row per desk-local day and key; every counter is counted in exactly one
-- row, so any sum over a range and a filter is the answer. Ticket counters (tickets,
-- first_contact_resolved, record_*) are on the ticket's created day; the others on the day the event
-- happened. opened/closed are the backlog's ins and outs: the backlog at the end of a day is the sum
-- of (opened - closed) up to it.
CREATE TABLE stats.daily (
    day           date NOT NULL,
    team_id       text NOT NULL,
    channel       text NOT NULL,
    kind          text NOT NULL,
    customer_tier text NOT NULL,
    handling      text NOT NULL,
    stage         text NOT NULL,
    tickets                bigint NOT NULL DEFAULT 0,
    first_contact_resolved bigint NOT NULL DEFAULT 0,
    record_fields_filled   bigint NOT NULL DEFAULT 0,
    record_fields_total    bigint NOT NULL DEFAULT 0,
    complete_records       bigint NOT NULL DEFAULT 0,  -- tickets with every required field filled
    opened                 bigint NOT NULL DEFAULT 0,
    closed                 bigint NOT NULL DEFAULT 0,
    dispatches             bigint NOT NULL DEFAULT 0,
    dispatches_answered    bigint NOT NULL DEFAULT 0,  -- 回单: work orders resolved by the team
    second_dispatches      bigint NOT NULL DEFAULT 0,
    returns                bigint NOT NULL DEFAULT 0,
    chases                 bigint NOT NULL DEFAULT 0,
    warnings               bigint NOT NULL DEFAULT 0,
    overdue_alarms         bigint NOT NULL DEFAULT 0,
    reviews                bigint NOT NULL DEFAULT 0,
    callbacks              bigint NOT NULL DEFAULT 0,
    resolved               bigint NOT NULL DEFAULT 0,
    cancelled              bigint NOT NULL DEFAULT 0,
    sla_response_met       bigint NOT NULL DEFAULT 0,
    sla_response_missed    bigint NOT NULL DEFAULT 0,
    sla_resolution_met     bigint NOT NULL DEFAULT 0,
    sla_resolution_missed  bigint NOT NULL DEFAULT 0,
    sla_callback_met       bigint NOT NULL DEFAULT 0,
    sla_callback_missed    bigint NOT NULL DEFAULT 0,
    sla_investigation_met    bigint NOT NULL DEFAULT 0,
    sla_investigation_missed bigint NOT NULL DEFAULT 0,
    sla_knowledge_entry_met    bigint NOT NULL DEFAULT 0,
    sla_knowledge_entry_missed bigint NOT NULL DEFAULT 0,
    surveys_answered       bigint NOT NULL DEFAULT 0,
    surveys_expired        bigint NOT NULL DEFAULT 0,
    rating_very_satisfied  bigint NOT NULL DEFAULT 0,
    rating_satisfied       bigint NOT NULL DEFAULT 0,
    rating_neutral         bigint NOT NULL DEFAULT 0,
    rating_unsatisfied     bigint NOT NULL DEFAULT 0,
    escalations_repeats                bigint NOT NULL DEFAULT 0,
    escalations_overdue_recontact      bigint NOT NULL DEFAULT 0,
    escalations_disputed_investigation bigint NOT NULL DEFAULT 0,
    escalations_refused_answer         bigint NOT NULL DEFAULT 0,
    escalations_complaint              bigint NOT NULL DEFAULT 0,
    escalations_resolved               bigint NOT NULL DEFAULT 0,
    response_seconds_sum   double precision NOT NULL DEFAULT 0,
    response_count         bigint NOT NULL DEFAULT 0,
    resolve_seconds_sum    double precision NOT NULL DEFAULT 0,
    resolve_count          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, team_id, channel, kind, customer_tier, handling, stage)
);

-- Times to respond and to resolve in fixed buckets (services/stats/rollups.py BUCKET_BOUNDS), for
-- the p90: measure RESPOND or RESOLVE, bucket the index of the first bound the time is below.
CREATE TABLE stats.daily_durations (
    day           date NOT NULL,
    team_id       text NOT NULL,
    channel       text NOT NULL,
    kind          text NOT NULL,
    customer_tier text NOT NULL,
    measure       text NOT NULL,
    bucket        smallint NOT NULL,
    count         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, team_id, channel, kind, customer_tier, measure, bucket)
);

-- Per agent and day: the report's AgentLine.
CREATE TABLE stats.daily_agents (
    day      date NOT NULL,
    agent_id text NOT NULL,
    recorded               bigint NOT NULL DEFAULT 0,
    first_contact_resolved bigint NOT NULL DEFAULT 0,
    dispatches             bigint NOT NULL DEFAULT 0,
    reviews                bigint NOT NULL DEFAULT 0,
    callbacks              bigint NOT NULL DEFAULT 0,
    surveys                bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, agent_id)
);
