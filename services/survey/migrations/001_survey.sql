-- Survey owns callbacks (and, later, surveys and investigations).
CREATE SCHEMA IF NOT EXISTS survey;

-- Every attempt is kept (not reached, then reached); the workflow's clock makes the key stable on retry.
CREATE TABLE survey.callbacks (
    ticket_id          text NOT NULL,
    recorded_at        timestamptz NOT NULL,
    reached            boolean NOT NULL,
    confirmed_resolved boolean NOT NULL,
    termination_reason text NOT NULL DEFAULT '',
    note               text NOT NULL DEFAULT '',
    surveyor           text NOT NULL,
    ticket_status      text NOT NULL DEFAULT '',
    PRIMARY KEY (ticket_id, recorded_at)
);
