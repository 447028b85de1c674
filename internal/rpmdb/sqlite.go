package rpmdb

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchloop/patchloop/internal/rpm"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// sqliteDB is rpm's SQLite backend (rpm 4.16+, lib/backend/sqlite.cc).
type sqliteDB struct {
	dir   string
	db    *sql.DB
	conn  *sql.Conn
	order binary.ByteOrder
	had   map[string]bool // -wal and -shm files present when opened
}

// InitSQLite creates an empty rpm SQLite database in dir, as rpm --initdb
// does with the sqlite backend (WAL mode, every table and index).
func InitSQLite(ctx context.Context, dir string) error {
	path := filepath.Join(dir, SQLiteFile)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("rpmdb init: %s exists", path)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return fmt.Errorf("rpmdb init: %w", err)
	}
	defer func() { _ = db.Close() }()
	stmts := []string{"PRAGMA journal_mode = WAL", "CREATE TABLE IF NOT EXISTS 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)"}
	for _, ix := range Indexes {
		stmts = append(stmts, createIndexSQL(ix)...)
	}
	stmts = append(stmts, "PRAGMA wal_checkpoint(TRUNCATE)")
	for _, stmt := range stmts {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("rpmdb init: %s: %w", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("rpmdb init: %w", err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
	return nil
}

// createIndexSQL returns the statements rpm creates an index table with;
// SQLite keeps their text in the schema, so a table Patchloop adds reads as
// rpm's.
func createIndexSQL(ix Index) []string {
	keytype := "BLOB"
	if ix.Text {
		keytype = "TEXT"
	}
	stmts := []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS '%s' (key '%s' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))", ix.Name, keytype)}
	if ix.Text {
		stmts = append(stmts, fmt.Sprintf("CREATE INDEX IF NOT EXISTS '%s_key_idx' ON '%s'(key ASC)", ix.Name, ix.Name))
	}
	if arrayIndex(ix.Tag) {
		stmts = append(stmts, fmt.Sprintf("CREATE INDEX IF NOT EXISTS '%s_hnum_idx' ON '%s'(hnum ASC)", ix.Name, ix.Name))
	}
	return stmts
}

// arrayIndex reports whether rpm's tag table gives the tag an array return
// type, which makes rpm index the table by hnum too.
func arrayIndex(t rpm.Tag) bool {
	switch t {
	case rpm.TagName, rpm.TagGroup, rpm.TagInstallTID, rpm.TagSigMD5, rpm.TagSHA1Header:
		return false
	}
	return true
}

// allowedSchema lists the schema objects an rpm database may have: anything
// else (a trigger or view an image planted) refuses the database.
func allowedSchema() map[string]string {
	m := map[string]string{"Packages": "table", "sqlite_sequence": "table", "sqlite_stat1": "table", "sqlite_stat4": "table"}
	for _, ix := range Indexes {
		m[ix.Name] = "table"
		m[ix.Name+"_key_idx"] = "index"
		m[ix.Name+"_hnum_idx"] = "index"
	}
	return m
}

func openSQLite(ctx context.Context, dir string) (backend, error) {
	path := filepath.Join(dir, SQLiteFile)
	head := make([]byte, len(sqliteMagic))
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rpmdb: %w", err)
	}
	_, err = f.Read(head)
	_ = f.Close()
	if err != nil || !bytes.Equal(head, sqliteMagic) {
		return nil, fmt.Errorf("rpmdb %s: not an SQLite database", path)
	}
	s := &sqliteDB{dir: dir, order: hostOrder, had: map[string]bool{}}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		p := path + suffix
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		s.had[SQLiteFile+suffix] = true
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("rpmdb %s: not a regular file", p)
		}
		// The shared-memory index is rebuilt by SQLite; one from an
		// image is never trusted. A write-ahead log is applied.
		if suffix == "-shm" {
			if err := os.Remove(p); err != nil {
				return nil, fmt.Errorf("rpmdb: %w", err)
			}
		}
	}
	q := url.Values{}
	q.Add("_pragma", "trusted_schema(0)")
	q.Add("_pragma", "secure_delete(0)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_defensive", "1")
	dsn := (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode() + "&mode=rw"}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("rpmdb %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s.db = db
	s.conn, err = db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("rpmdb %s: %w", path, err)
	}
	if err := s.check(ctx); err != nil {
		_ = s.close()
		return nil, fmt.Errorf("rpmdb %s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		_ = s.close()
		return nil, fmt.Errorf("rpmdb %s: %w", path, err)
	}
	return s, nil
}

// check refuses a damaged database or one with schema objects rpm does not
// create.
func (s *sqliteDB) check(ctx context.Context) error {
	var ok string
	if err := s.conn.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&ok); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if ok != "ok" {
		return fmt.Errorf("database is damaged: %s", ok)
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT type, name, tbl_name, sql IS NULL FROM sqlite_master")
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	defer func() { _ = rows.Close() }()
	allowed := allowedSchema()
	hasPackages := false
	for rows.Next() {
		var typ, name, table string
		var noSQL bool
		if err := rows.Scan(&typ, &name, &table, &noSQL); err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
		// SQLite's own indexes of UNIQUE and PRIMARY KEY constraints
		// have no SQL; anything else named like one (a crafted file can
		// hold a trigger so named) is foreign.
		auto := strings.HasPrefix(name, "sqlite_autoindex_") && typ == "index" && noSQL && allowed[table] == "table"
		if allowed[name] != typ && !auto {
			return fmt.Errorf("unexpected %s %q in the schema: not an rpm database", typ, name)
		}
		hasPackages = hasPackages || name == "Packages"
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if !hasPackages {
		return errors.New("no Packages table: not an rpm database")
	}
	return nil
}

// prepare starts the transaction, creates any table rpm would and learns
// the byte order of integer keys.
func (s *sqliteDB) prepare(ctx context.Context) error {
	if _, err := s.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	for _, ix := range Indexes {
		for _, stmt := range createIndexSQL(ix) {
			if _, err := s.conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create %s: %w", ix.Name, err)
			}
		}
	}
	var key, blob []byte
	err := s.conn.QueryRowContext(ctx, "SELECT i.key, p.blob FROM Installtid i JOIN Packages p ON p.hnum = i.hnum LIMIT 1").Scan(&key, &blob)
	if err == nil {
		if h, err := rpm.ParseBlob(blob); err == nil {
			s.order = detectOrder(key, h)
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read Installtid: %w", err)
	}
	return nil
}

func (s *sqliteDB) each(ctx context.Context, fn func(Package) error) error {
	rows, err := s.conn.QueryContext(ctx, "SELECT hnum, blob FROM Packages ORDER BY hnum")
	if err != nil {
		return fmt.Errorf("rpmdb: read Packages: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var p Package
		var hnum int64
		if err := rows.Scan(&hnum, &p.Blob); err != nil {
			return fmt.Errorf("rpmdb: read Packages: %w", err)
		}
		if hnum <= 0 || hnum > 1<<32-1 {
			return fmt.Errorf("rpmdb: header number %d out of range", hnum)
		}
		p.HNum = uint32(hnum)
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rpmdb: read Packages: %w", err)
	}
	return nil
}

func (s *sqliteDB) get(ctx context.Context, hnum uint32) ([]byte, error) {
	var blob []byte
	err := s.conn.QueryRowContext(ctx, "SELECT blob FROM Packages WHERE hnum=?", int64(hnum)).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("rpmdb package %d: %w", hnum, ErrNoPackage)
	}
	if err != nil {
		return nil, fmt.Errorf("rpmdb package %d: %w", hnum, err)
	}
	return blob, nil
}

func (s *sqliteDB) remove(ctx context.Context, hnum uint32, _ *rpm.Header) error {
	if _, err := s.conn.ExecContext(ctx, "DELETE FROM 'Packages' WHERE hnum=?;", int64(hnum)); err != nil {
		return fmt.Errorf("rpmdb remove %d: %w", hnum, err)
	}
	for _, ix := range Indexes {
		if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("DELETE FROM '%s' WHERE hnum=?", ix.Name), int64(hnum)); err != nil {
			return fmt.Errorf("rpmdb remove %d from %s: %w", hnum, ix.Name, err)
		}
	}
	return nil
}

func (s *sqliteDB) add(ctx context.Context, blob []byte, h *rpm.Header) (uint32, error) {
	res, err := s.conn.ExecContext(ctx, "INSERT OR REPLACE INTO 'Packages' VALUES(?, ?)", nil, blob)
	if err != nil {
		return 0, fmt.Errorf("rpmdb add: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil || id <= 0 || id > 1<<32-1 {
		return 0, fmt.Errorf("rpmdb add: header number %d: %v", id, err)
	}
	for _, ix := range Indexes {
		stmt := fmt.Sprintf("INSERT INTO '%s' VALUES(?, ?, ?)", ix.Name)
		for _, k := range Keys(h, ix, s.order) {
			var key any = k.Key
			if ix.Text {
				key = string(k.Key)
			}
			if _, err := s.conn.ExecContext(ctx, stmt, key, id, int64(k.Idx)); err != nil {
				return 0, fmt.Errorf("rpmdb add to %s: %w", ix.Name, err)
			}
		}
	}
	return uint32(id), nil
}

func (s *sqliteDB) commit(ctx context.Context) (Changes, error) {
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		_ = s.close()
		return Changes{}, fmt.Errorf("rpmdb commit: %w", err)
	}
	// As rpm closes its database: refresh the planner's statistics and
	// fold the log into the database file.
	for _, stmt := range []string{"PRAGMA optimize", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := s.conn.ExecContext(ctx, stmt); err != nil {
			_ = s.close()
			return Changes{}, fmt.Errorf("rpmdb commit: %s: %w", stmt, err)
		}
	}
	if err := s.close(); err != nil {
		return Changes{}, fmt.Errorf("rpmdb commit: close: %w", err)
	}
	ch := Changes{Write: []string{SQLiteFile}}
	for _, name := range []string{SQLiteFile + "-journal", SQLiteFile + "-shm", SQLiteFile + "-wal"} {
		p := filepath.Join(s.dir, name)
		if _, err := os.Lstat(p); err == nil {
			if err := os.Remove(p); err != nil {
				return Changes{}, fmt.Errorf("rpmdb commit: %w", err)
			}
		}
		if s.had[name] {
			ch.Delete = append(ch.Delete, name)
		}
	}
	return ch, nil
}

func (s *sqliteDB) close() error {
	var errs []error
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
		s.conn = nil
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
		s.db = nil
	}
	return errors.Join(errs...)
}

func (s *sqliteDB) entries(ix Index) ([]IndexEntry, error) {
	rows, err := s.conn.QueryContext(context.Background(), fmt.Sprintf("SELECT CAST(key AS BLOB), hnum, idx FROM '%s'", ix.Name))
	if err != nil {
		return nil, fmt.Errorf("rpmdb: read %s: %w", ix.Name, err)
	}
	defer func() { _ = rows.Close() }()
	var out []IndexEntry
	for rows.Next() {
		var e IndexEntry
		var hnum, idx int64
		if err := rows.Scan(&e.Key, &hnum, &idx); err != nil {
			return nil, fmt.Errorf("rpmdb: read %s: %w", ix.Name, err)
		}
		e.HNum, e.Idx = uint32(hnum), uint32(idx)
		out = append(out, e)
	}
	return out, rows.Err()
}
