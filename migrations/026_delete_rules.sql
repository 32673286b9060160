-- CineVault deletes users, libraries and media items and relies on its foreign keys to take
-- their sessions, transcodes and rules with them (ON DELETE CASCADE in its 025). The
-- sidecar's first release created the same keys without an ON DELETE rule, which would make
-- those deletes fail; each such key is replaced by the same key with CineVault's rule.
-- Keys that already have a rule (CineVault's own tables) are left as they are.
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN
        SELECT c.conname, c.conrelid::regclass AS tbl, a.attname AS col,
               c.confrelid::regclass AS ref
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confdeltype = 'a'
          AND cardinality(c.conkey) = 1
          AND c.connamespace = current_schema()::regnamespace
          AND (c.conrelid::regclass::text, a.attname) IN (
                ('stream_sessions', 'user_id'), ('stream_sessions', 'media_item_id'),
                ('transcode_history', 'user_id'), ('transcode_history', 'media_item_id'),
                ('alert_rules', 'channel_id'))
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', k.tbl, k.conname);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES %s(id)
                            ON DELETE CASCADE', k.tbl, k.conname, k.col, k.ref);
    END LOOP;
END
$$;
