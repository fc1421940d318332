-- Access: bearer tokens (stored as SHA-256 digests) mapped to principals with roles.
CREATE SCHEMA IF NOT EXISTS desk;

CREATE TABLE desk.tokens (
    token_sha256 bytea PRIMARY KEY,
    principal_id text NOT NULL,
    roles        text[] NOT NULL,
    team_id      text NOT NULL DEFAULT '',
    development  boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE INDEX tokens_principal ON desk.tokens (principal_id);
