-- Which version of the document reader (`briefing::READER_VERSION`) read a
-- document's items and citations. A document read by an older one is read
-- again by sync even when its bytes are unchanged: otherwise a mended
-- reader never reached the documents already in the store. Rows written
-- before this column existed are version 0, read again once.
ALTER TABLE documents ADD COLUMN reader INTEGER NOT NULL DEFAULT 0;
