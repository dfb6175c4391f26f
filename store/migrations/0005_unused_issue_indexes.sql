-- Indexes no query uses. Lenses filter, group and extend in memory over a snapshot of the
-- extracted columns, so only the key (unique) and the project (snapshots by project, edits)
-- are looked up in SQL. Each of these cost a B-tree insert per issue written: a sixth of a
-- full sync's time.

DROP INDEX issues_parent;
DROP INDEX issues_epic_link;
DROP INDEX issues_updated;
DROP INDEX issues_status_category;
DROP INDEX issues_assignee;
DROP INDEX issues_security;
