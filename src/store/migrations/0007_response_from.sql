-- A 304 capture repeats the response of the capture it confirms: its status,
-- headers and content type are that capture's. It names that capture here
-- (always one with its own headers) and stores none of them itself, nor a
-- title (its reading, which holds one, is shared through `reading_from`):
-- copied, they were most of the row, and a row is written for every
-- unchanged source every night. Its `headers` is then '[]' and
-- `content_type` and `title` NULL; readers take them from this capture.
ALTER TABLE captures ADD COLUMN response_from INTEGER REFERENCES captures(id);
