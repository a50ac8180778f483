-- A 304 capture repeats the response of the capture it confirms: its status,
-- headers and content type are that capture's. It names that capture here
-- (always one with its own headers) and stores none of them itself: its
-- `headers` is then '[]' and `content_type` NULL, and readers take them
-- from the capture named. Nor does any capture whose reading is shared
-- through `reading_from` (a 304, or the same body again) store a `title`:
-- that reading holds it. Copied, they were most of the row, and a row is
-- written for every unchanged source every night.
ALTER TABLE captures ADD COLUMN response_from INTEGER REFERENCES captures(id);
