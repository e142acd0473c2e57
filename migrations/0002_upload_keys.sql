-- SPDX-License-Identifier: MPL-2.0
-- Upload bookkeeping: a stored file's rows are found by key when a retry or a concurrent upload
-- of the same file checks for an existing row, and by the files API's key filter; token lists
-- are ordered by creation per user.
CREATE INDEX file_uploads_key ON file_uploads (key);
CREATE INDEX tokens_user_created ON tokens (user_id, created_at);
