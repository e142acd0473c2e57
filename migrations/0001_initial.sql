-- SPDX-License-Identifier: MPL-2.0
-- Initial schema: users, permissions and tokens; uploads and the files they stored; missing-symbol
-- counters; and the record of applied migrations. Column meanings follow Tecken's upload_upload
-- and upload_fileupload tables so that the download API's code-id lookup behaves the same.

CREATE TABLE schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id           bigserial PRIMARY KEY,
    email        text NOT NULL UNIQUE,
    is_active    boolean NOT NULL DEFAULT true,
    is_superuser boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Stable ids: the token API takes permission ids.
CREATE TABLE permissions (
    id       integer PRIMARY KEY,
    codename text NOT NULL UNIQUE,
    name     text NOT NULL
);
INSERT INTO permissions (id, codename, name) VALUES
    (1, 'upload.upload_symbols', 'Upload Symbols Files'),
    (2, 'upload.upload_try_symbols', 'Upload Try Symbols Files'),
    (3, 'upload.view_all_uploads', 'View All Symbols Uploads'),
    (4, 'tokens.manage_tokens', 'Manage Your API Tokens');

-- What a user may grant to its tokens.
CREATE TABLE user_permissions (
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    permission_id integer NOT NULL REFERENCES permissions (id),
    PRIMARY KEY (user_id, permission_id)
);

-- The token itself is never stored: key_hash is the SHA-256 of the 32-hex key.
CREATE TABLE tokens (
    id                           bigserial PRIMARY KEY,
    user_id                      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_hash                     bytea NOT NULL UNIQUE,
    key_hint                     text NOT NULL DEFAULT '',
    notes                        text NOT NULL DEFAULT '',
    expires_at                   timestamptz NOT NULL,
    created_at                   timestamptz NOT NULL DEFAULT now(),
    last_used_at                 timestamptz,
    revoked_at                   timestamptz,
    preferred_upload_api_version integer NOT NULL DEFAULT 1
);
CREATE INDEX tokens_user_id ON tokens (user_id);

CREATE TABLE token_permissions (
    token_id      bigint NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    permission_id integer NOT NULL REFERENCES permissions (id),
    PRIMARY KEY (token_id, permission_id)
);

CREATE TABLE uploads (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    filename      text NOT NULL,
    bucket_name   text NOT NULL,
    size          bigint NOT NULL CHECK (size >= 0),
    content_hash  text,
    download_url  text,
    redirect_urls text[],
    skipped_keys  text[],
    ignored_keys  text[],
    try_symbols   boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);
CREATE INDEX uploads_user_id ON uploads (user_id);
CREATE INDEX uploads_created_at ON uploads (created_at);

-- One row per file written to storage. key has no v1/ or try/v1/ prefix.
CREATE TABLE file_uploads (
    id             bigserial PRIMARY KEY,
    upload_id      bigint REFERENCES uploads (id) ON DELETE SET NULL,
    bucket_name    text NOT NULL,
    key            text NOT NULL,
    update         boolean NOT NULL DEFAULT false,
    compressed     boolean NOT NULL DEFAULT false,
    size           bigint NOT NULL CHECK (size >= 0),
    try_symbols    boolean NOT NULL DEFAULT false,
    debug_filename text,
    debug_id       text,
    code_file      text,
    code_id        text,
    generator      text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz
);
CREATE INDEX file_uploads_upload_id ON file_uploads (upload_id);
CREATE INDEX file_uploads_created_at ON file_uploads (created_at);
CREATE INDEX file_uploads_debuginfo ON file_uploads (debug_filename, debug_id)
    WHERE debug_filename IS NOT NULL AND debug_id IS NOT NULL;
CREATE INDEX file_uploads_codeinfo ON file_uploads (code_file, code_id)
    WHERE code_file IS NOT NULL AND code_id IS NOT NULL;

-- Requests for symbols that were not found, counted (never one row per request).
CREATE TABLE missing_symbols (
    id             bigserial PRIMARY KEY,
    debug_filename text NOT NULL,
    debug_id       text NOT NULL,
    filename       text NOT NULL,
    code_file      text NOT NULL DEFAULT '',
    code_id        text NOT NULL DEFAULT '',
    count          bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    modified_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (debug_filename, debug_id, filename, code_file, code_id)
);
CREATE INDEX missing_symbols_modified_at ON missing_symbols (modified_at);
