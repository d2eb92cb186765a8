-- @warren/postgres: the transactional outbox and inbox tables, and stream consumers' offsets.
--
-- Applied by `applySchema(pool, { outboxTable, inboxTable, offsetTable })`, which fills in the double-brace placeholders
-- with the configured (quoted) names, takes an advisory lock so instances starting together do not
-- race, and runs it in one transaction. Every statement is idempotent (IF NOT EXISTS), so applying it
-- at every start is safe and later versions migrate by adding statements here. To apply it by hand
-- with the default names: `renderSchema()` prints it.

-- Messages published inside a business transaction, waiting for the relay.
CREATE TABLE IF NOT EXISTS {{outbox}} (
  id            bigserial PRIMARY KEY,          -- relay order; per ordering key, publish order
  exchange      text NOT NULL,
  routing_key   text NOT NULL,
  body          bytea NOT NULL,                 -- the encoded, validated payload
  properties    jsonb NOT NULL,                 -- AMQP properties, message id included (fixed at the publish call)
  mandatory     boolean NOT NULL DEFAULT false,
  ordering_key  text,                           -- rows with the same key are published one after another, in id order
  created_at    timestamptz NOT NULL DEFAULT now(),
  available_at  timestamptz NOT NULL DEFAULT now(), -- pushed back after a failed publish
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  sent_at       timestamptz                     -- set once the broker confirmed it; deleted after the retention period
);

-- The relay's claim: unsent rows in id order.
CREATE INDEX IF NOT EXISTS {{outbox:pending}} ON {{outbox}} (id) WHERE sent_at IS NULL;
-- The relay's ordering check: an earlier unsent row with the same key.
CREATE INDEX IF NOT EXISTS {{outbox:pending_key}} ON {{outbox}} (ordering_key, id) WHERE sent_at IS NULL AND ordering_key IS NOT NULL;
-- Clean-up of sent rows past the retention period.
CREATE INDEX IF NOT EXISTS {{outbox:sent}} ON {{outbox}} (sent_at) WHERE sent_at IS NOT NULL;

-- Messages a transactional consumer has processed: inserted in the handler's transaction.
CREATE TABLE IF NOT EXISTS {{inbox}} (
  consumer      text NOT NULL,                  -- `Class.method` of the consumer
  message_id    text NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);

-- Clean-up of records past the retention period.
CREATE INDEX IF NOT EXISTS {{inbox:processed}} ON {{inbox}} (processed_at);

-- Parking (added after the first release: ALTERs, so existing tables migrate in place).
-- Times the broker refused the row: returned it unroutable, had no such exchange, or refused it outright.
ALTER TABLE {{outbox}} ADD COLUMN IF NOT EXISTS refusals integer NOT NULL DEFAULT 0;
-- Set when the relay parks the row (too many refusals, or one it can never send; last_error says
-- why): it is not sent again and no longer holds its ordering key back, until released.
ALTER TABLE {{outbox}} ADD COLUMN IF NOT EXISTS parked_at timestamptz;
-- Counting and listing parked rows.
CREATE INDEX IF NOT EXISTS {{outbox:parked}} ON {{outbox}} (id) WHERE parked_at IS NOT NULL;

-- Stream consumers' offsets (PostgresOffsetStore): the offset up to which each consumer has
-- processed its stream, written every few messages; a restarted consumer resumes right after it.
CREATE TABLE IF NOT EXISTS {{offsets}} (
  consumer       text PRIMARY KEY,                -- the consumer's offsetName, `<stream>:<Class.method>` by default
  stream_offset  bigint NOT NULL CHECK (stream_offset >= 0),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
