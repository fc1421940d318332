-- Events recorded with the ticket that carries them, in the same transaction, waiting for intake's
-- relay to publish them to NATS (services/intake/relay.py), in the order of `position`.
-- `trace` is the W3C trace context of the change that decided them, so the publish joins its trace.
CREATE TABLE intake.outbox (
    position bigserial PRIMARY KEY,
    event    jsonb NOT NULL,
    trace    jsonb NOT NULL DEFAULT '{}'
);
