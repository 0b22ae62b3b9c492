// The PostgreSQL state store's tables and functions. Every change is a function, so that the
// change and its pg_notify commit together in one round trip; reservations and settlements take a
// transaction-scoped advisory lock on the user's key (two instances never both take the last
// slot). Keys arrive lower-cased by the caller (JavaScript's toLowerCase, the gateway's own rule),
// so PostgreSQL's locale never decides which user a row belongs to.

/** The channel every instance LISTENs on. */
export const STATE_CHANNEL = 'portcullis_state';

/** Only one instance migrates at a time (the state store's own advisory lock: "PCST"). */
export const STATE_MIGRATION_LOCK = 0x5043_5354;

const notify = (kind: string, extra = '') => `PERFORM pg_notify('${STATE_CHANNEL}', json_build_object('o', origin, 'k', '${kind}', 'key', k${extra})::text);`;

export const POSTGRES_STATE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE portcullis_revocations (key_lower TEXT PRIMARY KEY, key TEXT NOT NULL, reason TEXT NOT NULL, at BIGINT NOT NULL, until BIGINT);
   CREATE TABLE portcullis_locks (key_lower TEXT PRIMARY KEY, key TEXT NOT NULL, until BIGINT NOT NULL);
   CREATE TABLE portcullis_failures (key_lower TEXT NOT NULL, key TEXT NOT NULL, at BIGINT NOT NULL);
   CREATE INDEX portcullis_failures_by_key ON portcullis_failures (key_lower, at);
   CREATE TABLE portcullis_slots (slot TEXT PRIMARY KEY, key_lower TEXT NOT NULL, expires BIGINT NOT NULL);
   CREATE INDEX portcullis_slots_by_key ON portcullis_slots (key_lower, expires);

   CREATE FUNCTION portcullis_state_snapshot(now_ms BIGINT, win BIGINT) RETURNS json LANGUAGE plpgsql AS $$
   BEGIN
     DELETE FROM portcullis_revocations WHERE until IS NOT NULL AND until <= now_ms;
     DELETE FROM portcullis_failures WHERE at <= now_ms - win;
     DELETE FROM portcullis_failures WHERE key_lower IN (SELECT key_lower FROM portcullis_locks WHERE until <= now_ms);
     DELETE FROM portcullis_locks WHERE until <= now_ms;
     DELETE FROM portcullis_slots WHERE expires <= now_ms;
     RETURN json_build_object(
       'revocations', (SELECT json_agg(json_build_object('key', key, 'reason', reason, 'at', at, 'until', until) ORDER BY at) FROM portcullis_revocations),
       'locks', (SELECT json_agg(json_build_object('key', key, 'until', until)) FROM portcullis_locks),
       'failures', (SELECT json_agg(json_build_object('key', fk, 'n', fn)) FROM (SELECT min(key) AS fk, count(*) AS fn FROM portcullis_failures GROUP BY key_lower) f));
   END $$;

   CREATE FUNCTION portcullis_revoke(k TEXT, kl TEXT, why TEXT, at_ms BIGINT, until_ms BIGINT, origin TEXT) RETURNS void LANGUAGE plpgsql AS $$
   BEGIN
     INSERT INTO portcullis_revocations (key_lower, key, reason, at, until) VALUES (kl, k, why, at_ms, until_ms)
       ON CONFLICT (key_lower) DO UPDATE SET key = EXCLUDED.key, reason = EXCLUDED.reason, at = EXCLUDED.at, until = EXCLUDED.until;
     ${notify('revoke')}
   END $$;

   CREATE FUNCTION portcullis_unrevoke(k TEXT, kl TEXT, now_ms BIGINT, origin TEXT) RETURNS boolean LANGUAGE plpgsql AS $$
   DECLARE had BOOLEAN; u BIGINT;
   BEGIN
     DELETE FROM portcullis_revocations WHERE key_lower = kl RETURNING true, until INTO had, u;
     ${notify('unrevoke')}
     RETURN coalesce(had, false) AND (u IS NULL OR u > now_ms);
   END $$;

   CREATE FUNCTION portcullis_unlock(k TEXT, kl TEXT, origin TEXT) RETURNS void LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_advisory_xact_lock(hashtextextended(kl, 0));
     DELETE FROM portcullis_locks WHERE key_lower = kl;
     DELETE FROM portcullis_failures WHERE key_lower = kl;
     ${notify('unlock')}
   END $$;

   CREATE FUNCTION portcullis_reserve(kl TEXT, s TEXT, now_ms BIGINT, win BIGINT, threshold INT, hold BIGINT) RETURNS TEXT LANGUAGE plpgsql AS $$
   DECLARE l BIGINT; n BIGINT;
   BEGIN
     PERFORM pg_advisory_xact_lock(hashtextextended(kl, 0));
     SELECT until INTO l FROM portcullis_locks WHERE key_lower = kl;
     IF l IS NOT NULL AND l > now_ms THEN RETURN 'locked-out'; END IF;
     IF l IS NOT NULL THEN
       DELETE FROM portcullis_locks WHERE key_lower = kl;
       DELETE FROM portcullis_failures WHERE key_lower = kl;
     END IF;
     DELETE FROM portcullis_slots WHERE key_lower = kl AND expires <= now_ms;
     SELECT (SELECT count(*) FROM portcullis_failures WHERE key_lower = kl AND at > now_ms - win)
          + (SELECT count(*) FROM portcullis_slots WHERE key_lower = kl) INTO n;
     IF n >= threshold THEN RETURN 'full'; END IF;
     INSERT INTO portcullis_slots (slot, key_lower, expires) VALUES (s, kl, now_ms + hold);
     RETURN 'ok';
   END $$;

   CREATE FUNCTION portcullis_settle(k TEXT, kl TEXT, s TEXT, outcome TEXT, now_ms BIGINT, win BIGINT, threshold INT, cooldown BIGINT, origin TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $$
   DECLARE n BIGINT; l BIGINT;
   BEGIN
     PERFORM pg_advisory_xact_lock(hashtextextended(kl, 0));
     DELETE FROM portcullis_slots WHERE slot = s;
     IF outcome = 'success' THEN DELETE FROM portcullis_failures WHERE key_lower = kl; END IF;
     IF outcome <> 'failure' THEN RETURN NULL; END IF;
     DELETE FROM portcullis_failures WHERE key_lower = kl AND at <= now_ms - win;
     INSERT INTO portcullis_failures (key_lower, key, at) VALUES (kl, k, now_ms);
     SELECT count(*) INTO n FROM portcullis_failures WHERE key_lower = kl;
     SELECT until INTO l FROM portcullis_locks WHERE key_lower = kl;
     IF n < threshold OR (l IS NOT NULL AND l > now_ms) THEN RETURN NULL; END IF;
     INSERT INTO portcullis_locks (key_lower, key, until) VALUES (kl, k, now_ms + cooldown)
       ON CONFLICT (key_lower) DO UPDATE SET key = EXCLUDED.key, until = EXCLUDED.until;
     ${notify('lock', ", 'until', now_ms + cooldown")}
     RETURN now_ms + cooldown;
   END $$;

   CREATE FUNCTION portcullis_put_lock(k TEXT, kl TEXT, until_ms BIGINT, origin TEXT) RETURNS void LANGUAGE plpgsql AS $$
   DECLARE u BIGINT;
   BEGIN
     INSERT INTO portcullis_locks (key_lower, key, until) VALUES (kl, k, until_ms)
       ON CONFLICT (key_lower) DO UPDATE SET until = GREATEST(portcullis_locks.until, EXCLUDED.until)
       RETURNING until INTO u;
     ${notify('lock', ", 'until', u")}
   END $$;`,
];
