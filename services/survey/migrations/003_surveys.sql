-- Satisfaction surveys: one row per round (the first when the ticket closes, another after a second
-- dispatch an investigation blamed on the ops team), with its investigation. Kept by the ticket
-- workflow's persisting step; read by GetSurvey and SubmitSurvey.
CREATE TABLE survey.surveys (
    ticket_id  text NOT NULL,
    round      integer NOT NULL,
    status     text NOT NULL,
    rating     text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT '',
    due_at     timestamptz NOT NULL,
    record     jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, round)
);
-- Unsatisfied answers awaiting their investigation, for the surveyors' work list.
CREATE INDEX surveys_open ON survey.surveys (status, due_at);
