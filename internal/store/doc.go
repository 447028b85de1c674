// Package store keeps Patchloop's workflow state in its own tables:
// workflows, their claimed cycles, task runs and run logs. River deletes
// finished jobs after a while; these tables are the history.
//
// One code path serves SQLite (modernc.org/sqlite, one open connection,
// WAL, busy timeout) and PostgreSQL (pgx). Queries are written once with ?
// placeholders; the PostgreSQL adapter rewrites them to $n. Times are
// stored as Unix microseconds so both databases compare and sort them the
// same way.
package store
