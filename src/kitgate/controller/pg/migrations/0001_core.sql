-- Why these shapes: the same tables and column names as the SQLite DDLs (controller/store.py, images.py,
-- security/tokens.py, security/apikeys.py), so both engines decode rows with the same code. REAL is double
-- precision; a job's labels are jsonb (a claim filters them with `<@` in SQL), while limits and result stay
-- text: they are decoded exactly as stored (key order, and the result's depth check on the raw text).

CREATE TABLE jobs (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id text NOT NULL UNIQUE,
    owner text NOT NULL,
    status text NOT NULL,
    policy text NOT NULL,
    policy_digest text NOT NULL,
    code text NOT NULL,
    code_sha256 text NOT NULL,
    labels jsonb NOT NULL DEFAULT '[]',
    idempotency_key text,
    timeout_s double precision,
    limits text NOT NULL DEFAULT '{}',
    attempts integer NOT NULL DEFAULT 0,
    max_retries integer NOT NULL DEFAULT 0,
    worker_id text,
    claim_id text,
    claimed_by text,
    created_at double precision NOT NULL,
    queued_at double precision,
    claimed_at double precision,
    started_at double precision,
    finished_at double precision,
    heartbeat_at double precision,
    result text
);
CREATE UNIQUE INDEX jobs_idem ON jobs (owner, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_queue ON jobs (status, queued_at, seq);
CREATE INDEX jobs_owner ON jobs (owner, seq);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
-- the sweeper's scan: running jobs by heartbeat
CREATE INDEX jobs_running ON jobs (heartbeat_at) WHERE status = 'running';

CREATE TABLE workers (
    id text PRIMARY KEY,
    labels jsonb NOT NULL DEFAULT '[]',
    stage text,
    state text,
    job_id text,
    first_seen double precision NOT NULL,
    last_seen double precision NOT NULL,
    credential text  -- "<kind>:<token or key id>" that owns the id
);

CREATE TABLE job_images (
    job_id text PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    png bytea NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    sha256 text NOT NULL,
    created_at double precision NOT NULL
);

CREATE TABLE tokens (
    jti text PRIMARY KEY,
    sub text NOT NULL,
    kind text NOT NULL,
    scopes text NOT NULL,
    policies text,
    cidrs text,
    created_at double precision NOT NULL,
    expires_at double precision NOT NULL,
    revoked_at double precision
);

CREATE TABLE apikeys (
    id text PRIMARY KEY,
    sub text NOT NULL,
    scopes text NOT NULL,
    policies text,
    cidrs text,
    digest text NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision,
    revoked_at double precision
);

-- restart grace without amnesty: when a controller last swept (row 'sweeper')
CREATE TABLE controller_clock (
    name text PRIMARY KEY,
    alive_at double precision NOT NULL
);
