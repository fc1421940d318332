-- Events intake's relay could never publish (services/intake/relay.py): NATS refused them for good
-- (over its maximum payload, say), so they are parked here with the error instead of holding back
-- every event queued after them. An operator lists them (`helpdesk events dead-letters`) and sends
-- one back to the outbox once the cause is fixed (`helpdesk events retry ID`).
CREATE TABLE intake.dead_letters (
    letter_id  bigserial PRIMARY KEY,
    position   bigint NOT NULL,            -- its place in the outbox when it was parked
    event      jsonb NOT NULL,
    trace      jsonb NOT NULL DEFAULT '{}',
    error      text NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now()
);
