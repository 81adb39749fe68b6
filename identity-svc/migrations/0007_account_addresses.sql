-- The addresses of accounts (actual, legal, shipping): an organization's profile shows
-- and edits its account's addresses.
CREATE TABLE account_addresses (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    type          TEXT NOT NULL CHECK (type IN ('actual', 'legal', 'shipping')),
    is_primary    SMALLINT NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    country       TEXT NOT NULL DEFAULT '',
    region        TEXT NOT NULL DEFAULT '',
    city          TEXT NOT NULL DEFAULT '',
    address_line  TEXT NOT NULL DEFAULT '',
    postal_code   TEXT NOT NULL DEFAULT '',
    -- The order the addresses were given in.
    position      INTEGER NOT NULL
);
CREATE INDEX account_addresses_account ON account_addresses (account_id, position);
