-- Routing rules, the violations ledger's agent and chase count, and policies on the team's calendar.

-- Category x region x customer tier -> team; '' matches anything; team_id '' keeps tickets at the desk.
CREATE TABLE dispatch.routing_rules (
    rule_id        text PRIMARY KEY,
    category       text NOT NULL DEFAULT '',
    region         text NOT NULL DEFAULT '',
    customer_tier  text NOT NULL DEFAULT '',
    team_id        text NOT NULL DEFAULT '',
    require_review boolean NOT NULL DEFAULT false,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (category, region, customer_tier)
);

ALTER TABLE dispatch.violations ADD COLUMN agent_id text NOT NULL DEFAULT '';
ALTER TABLE dispatch.violations ADD COLUMN chase_count integer NOT NULL DEFAULT 0;
CREATE INDEX violations_agent ON dispatch.violations (agent_id, recorded_at) WHERE agent_id <> '';
CREATE INDEX violations_recorded ON dispatch.violations (recorded_at, violation_id);

-- '' is "the calendar of the team the work order goes to". Every policy so far was 24X7, the only
-- calendar there was, as was every team; so this changes no deadline until a team's calendar changes.
ALTER TABLE dispatch.sla_policies ALTER COLUMN calendar SET DEFAULT '';
UPDATE dispatch.sla_policies SET calendar = '' WHERE calendar = '24X7';
