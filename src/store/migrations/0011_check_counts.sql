-- Checks recorded, by fetch outcome, counted as they are written: `/metrics`
-- counted them on every scrape with `GROUP BY outcome` over every check ever
-- recorded, a scan of the largest table (every due source adds a row every
-- night, each with its hops and error) that no index helped, and an index on
-- `outcome` would still be read whole. Kept by triggers in the transaction
-- that writes the check, so the counts agree with the table whatever writes
-- it; checks are never updated or deleted, but a count that did so by hand
-- stays right too. A store made before starts with what its checks count.
CREATE TABLE check_counts (
    outcome TEXT    PRIMARY KEY,
    n       INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO check_counts (outcome, n) SELECT outcome, count(*) FROM checks GROUP BY outcome;
CREATE TRIGGER checks_counted AFTER INSERT ON checks
BEGIN
    INSERT INTO check_counts (outcome, n) VALUES (NEW.outcome, 1)
        ON CONFLICT (outcome) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER checks_uncounted AFTER DELETE ON checks
BEGIN
    UPDATE check_counts SET n = n - 1 WHERE outcome = OLD.outcome;
END;
CREATE TRIGGER checks_recounted AFTER UPDATE OF outcome ON checks
BEGIN
    UPDATE check_counts SET n = n - 1 WHERE outcome = OLD.outcome;
    INSERT INTO check_counts (outcome, n) VALUES (NEW.outcome, 1)
        ON CONFLICT (outcome) DO UPDATE SET n = n + 1;
END;
