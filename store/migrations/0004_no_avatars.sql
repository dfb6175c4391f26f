-- Avatar URLs are no longer kept: a terminal shows no images, and they are personal data.
-- Issue fields are now stored without Jira's "self", "iconUrl" and "avatarUrls" members
-- (see CompactFields); fields cached before keep theirs until the issue is next written,
-- which nothing minds.

ALTER TABLE users DROP COLUMN avatar_url;
