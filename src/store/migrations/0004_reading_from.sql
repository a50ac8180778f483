-- A capture that confirms an earlier one's bytes (a 304, or the same body
-- again) shares that capture's reading instead of storing a copy of it: the
-- copy was most of what a re-check night added to the database.
ALTER TABLE captures ADD COLUMN reading_from INTEGER REFERENCES captures(id);
