-- Why this shape (kitgate.controller.pg.audit explains the whole design): a job's unit of work inserts its
-- audit row with seq, prev_hash and hash still NULL, so no writer waits on another; one sequencer (under an
-- advisory lock) later chains the committed rows in order and signs a checkpoint of the new head. The chained
-- fields are those of the SQLite trail (security/audit.py), hashed the same way, so both chains read alike.

CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- write order; the chain order is seq
    seq bigint UNIQUE,  -- NULL until chained; UNIQUE: two sequencers can never give one seq twice (no fork)
    ts double precision NOT NULL,
    event text NOT NULL,
    actor text,
    ip text,
    request_id text,
    job_id text,  -- a lookup copy of data's job_id for the console's job page; not part of the hash
    data text NOT NULL,  -- the JSON text exactly as hashed
    prev_hash text,
    hash text,
    CONSTRAINT audit_chained_whole CHECK ((seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL))
);
-- the sequencer's scan: rows not chained yet, in write order
CREATE INDEX audit_pending ON audit (id) WHERE seq IS NULL;
CREATE INDEX audit_event ON audit (event, seq);
CREATE INDEX audit_actor ON audit (actor, seq);
CREATE INDEX audit_request ON audit (request_id, seq);
CREATE INDEX audit_job ON audit (job_id) WHERE job_id IS NOT NULL;

-- the head anchor: after each round the sequencer signs (seq, hash, ts) with the keys dir's "audit" key. The
-- newest row moves forward in place; a new row starts once it is a minute old, so a busy trail keeps a
-- history of signed heads (one a minute) without a row per round.
CREATE TABLE audit_checkpoints (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq bigint NOT NULL UNIQUE,
    hash text NOT NULL,
    ts double precision NOT NULL,
    kid text NOT NULL,
    signature text NOT NULL,  -- Ed25519 over pg.audit.checkpoint_text(seq, hash, ts), base64url
    opened_at double precision NOT NULL  -- when this row was first written
);

-- Append-only for the application: a chained record is never updated, nothing is ever deleted, and a
-- checkpoint only moves forward. (An owner can disable triggers; that is what the hash chain and the
-- signed checkpoint are there to catch.)
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE FUNCTION audit_checkpoint_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <= OLD.seq OR NEW.opened_at <> OLD.opened_at THEN
        RAISE EXCEPTION 'the audit trail is append-only: a checkpoint only moves forward';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_no_rewrite BEFORE UPDATE ON audit
    FOR EACH ROW WHEN (OLD.seq IS NOT NULL) EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_forward BEFORE UPDATE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_forward();
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
