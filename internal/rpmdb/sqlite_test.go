package rpmdb_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/rpmdb"
	"github.com/patchloop/patchloop/internal/testutil/rpmbuild"
)

// fixture is a set of real packages: an installed set and an upgrade.
type fixture struct {
	old, upgrade []string // package paths
}

var testSpecs = struct {
	old, upgrade []rpmbuild.Spec
}{
	old: []rpmbuild.Spec{
		{Name: "alpha", Version: "1.0", Group: "System/Base",
			Provides:   []string{"alpha-api = 1", "libalpha.so.1()(64bit)"},
			Requires:   []string{"beta >= 1", "(gamma if delta)", "(beta or (gamma and rpmlib(Foo) >= 1))"},
			Recommends: []string{"gamma"}, Suggests: []string{"(delta if gamma else beta)"},
			Files:  map[string]string{"/usr/bin/alpha": "a1\n", "/usr/share/alpha/old.txt": "old\n", "/etc/alpha.conf": "x=1\n"},
			Config: []string{"/etc/alpha.conf"}, Dirs: []string{"/usr/share/alpha"}},
		{Name: "beta", Version: "1.0", Epoch: 1, Conflicts: []string{"omega < 2"}, Obsoletes: []string{"beta-old < 1"},
			Files: map[string]string{"/usr/lib/beta/b": "b\n"}, Triggers: []string{"alpha", "gamma", "alpha"}},
		{Name: "gamma", Version: "3", Supplements: []string{"alpha"}, Enhances: []string{"beta"},
			Files: map[string]string{"/usr/bin/gamma": "g\n"}, FileTriggers: []string{"/usr/lib/beta", "/usr/bin"},
			TransFileTriggers: []string{"/usr/share"}},
	},
	upgrade: []rpmbuild.Spec{
		{Name: "alpha", Version: "2.0", Group: "System/Base",
			Provides: []string{"alpha-api = 2"},
			Requires: []string{"beta >= 1", "(gamma or delta)", "(gamma if beta else delta)", "delta"},
			Files:    map[string]string{"/usr/bin/alpha": "a2\n", "/usr/share/alpha/new.txt": "new\n", "/etc/alpha.conf": "x=2\n"},
			Config:   []string{"/etc/alpha.conf"}, Dirs: []string{"/usr/share/alpha"}},
		{Name: "delta", Version: "0.1", Files: map[string]string{"/usr/bin/delta": "d\n"}},
	},
}

var built = map[string]fixture{}

func buildFixture(t *testing.T) fixture {
	t.Helper()
	rpmbuild.Need(t, "rpm", "rpmbuild")
	if f, ok := built["f"]; ok {
		return f
	}
	dir, err := os.MkdirTemp("", "patchloop-rpmdb-fixture-")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	for _, s := range testSpecs.old {
		f.old = append(f.old, rpmbuild.Build(t, dir, s))
	}
	for _, s := range testSpecs.upgrade {
		f.upgrade = append(f.upgrade, rpmbuild.Build(t, dir, s))
	}
	built["f"] = f
	return f
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range built {
		if len(f.old) > 0 {
			_ = os.RemoveAll(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(f.old[0])))))
		}
	}
	os.Exit(code)
}

// readPackage reads a package file's signature and main headers.
func readPackage(t *testing.T, path string) (sig, main *rpm.Header) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(b[96:])
	sig, _, err = rpm.ReadHeader(r, true)
	if err != nil {
		t.Fatal(err)
	}
	main, _, err = rpm.ReadHeader(r, false)
	if err != nil {
		t.Fatal(err)
	}
	return sig, main
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	out, err := exec.Command("cp", "-a", src, dst).CombinedOutput()
	if err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
}

// dbRows returns every row of the database as text, header numbers replaced
// by package names so that two databases compare.
func dbRows(t *testing.T, path string) (blobs map[string][]byte, rows []string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names := map[int64]string{}
	blobs = map[string][]byte{}
	r, err := db.Query("SELECT hnum, blob FROM Packages")
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var hnum int64
		var blob []byte
		if err := r.Scan(&hnum, &blob); err != nil {
			t.Fatal(err)
		}
		h, err := rpm.ParseBlob(blob)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := h.String(rpm.TagName)
		names[hnum] = n
		blobs[n] = blob
	}
	r.Close()
	for _, ix := range rpmdb.Indexes {
		r, err := db.Query(fmt.Sprintf("SELECT typeof(key), hex(key), hnum, idx FROM '%s'", ix.Name))
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var typ, key string
			var hnum, idx int64
			if err := r.Scan(&typ, &key, &hnum, &idx); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, fmt.Sprintf("%s %s %s %s %d", ix.Name, typ, key, names[hnum], idx))
		}
		r.Close()
	}
	sort.Strings(rows)
	return blobs, rows
}

func rpmQueries(t *testing.T, root string, files ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if files == nil {
		files = []string{"/usr/bin/alpha", "/usr/share/alpha/new.txt", "/usr/lib/beta/b", "/usr/bin/delta", "/usr/share/alpha"}
	}
	for _, q := range [][]string{
		append([]string{"-qf"}, files...),
		{"-qa", "--qf", "%{NEVRA} %{INSTALLTID} %{SIGMD5} %{SHA256HEADER}\n"},
		{"-qi", "alpha"}, {"-qi", "delta"}, {"-qi", "beta"},
		{"-q", "--whatprovides", "alpha-api", "libalpha.so.1()(64bit)", "config(alpha)", "delta", "gamma"},
		{"-q", "--whatrequires", "beta", "gamma", "delta", "/bin/sh"},
		{"-q", "--whatrecommends", "gamma"}, {"-q", "--whatsuggests", "beta"},
		{"-q", "--whatsupplements", "alpha"}, {"-q", "--whatenhances", "beta"},
		{"-q", "--whatconflicts", "omega"}, {"-q", "--whatobsoletes", "beta-old"},
		{"-q", "--triggeredby", "alpha"},
		{"-q", "-g", "System/Base"},
		{"-qa", "--qf", "[%{FILENAMES} %{FILESTATES:fstate}\n]"},
		{"-q", "--dbpath", "/var/lib/rpm", "-a", "--last"},
	} {
		stdout, stderr, _ := rpmbuild.RPMRaw(root, q...)
		if stderr != "" {
			t.Errorf("rpm %v: stderr: %s", q, stderr)
		}
		out[strings.Join(q, " ")] = stdout
	}
	cmd := exec.Command("rpmdb", "--root", root, "--dbpath", "/var/lib/rpm", "--define", "_db_backend sqlite", "--verifydb")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("rpmdb --verifydb: %v: %s", err, stderr.String())
	}
	return out
}

// TestSQLiteUpgradeMatchesRPM upgrades the same database with rpm and with
// this package and compares everything: header blobs byte for byte, every
// index row, and what rpm's queries print.
func TestSQLiteUpgradeMatchesRPM(t *testing.T) {
	f := buildFixture(t)
	dir := t.TempDir()
	rpmRoot := filepath.Join(dir, "rpm")
	rpmbuild.InitDB(t, rpmRoot)
	rpmbuild.Install(t, rpmRoot, f.old...)
	goRoot := filepath.Join(dir, "go")
	copyTree(t, rpmRoot, goRoot)
	dbdir := filepath.Join(goRoot, "var/lib/rpm")
	beforeBlobs, _ := dbRows(t, filepath.Join(dbdir, rpmdb.SQLiteFile))

	rpmbuild.Upgrade(t, rpmRoot, f.upgrade...)
	rpmBlobs, rpmRows := dbRows(t, filepath.Join(rpmRoot, "var/lib/rpm", rpmdb.SQLiteFile))

	// The same upgrade in Go, in rpm's order (delta first: alpha needs
	// it) with rpm's transaction id and times.
	upgrade := []string{f.upgrade[1], f.upgrade[0]}

	ctx := context.Background()
	db, err := rpmdb.Open(ctx, dbdir)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := db.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 3 {
		t.Fatalf("%d packages", len(pkgs))
	}
	for _, p := range pkgs {
		h, err := p.Header()
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := h.String(rpm.TagName); n == "alpha" {
			if err := db.Remove(ctx, p.HNum); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, path := range upgrade {
		sig, main := readPackage(t, path)
		name, _ := main.String(rpm.TagName)
		rpmHeader, err := rpm.ParseBlob(rpmBlobs[name])
		if err != nil {
			t.Fatal(err)
		}
		tid, _ := rpmHeader.Int(rpm.TagInstallTID)
		itime, _ := rpmHeader.Int(rpm.TagInstallTime)
		h, err := rpmdb.InstalledHeader(sig, main, time.Unix(itime, 0), uint32(tid))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Add(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := db.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rpmdb.Changes{Write: []string{"rpmdb.sqlite"}, Delete: []string{"rpmdb.sqlite-shm", "rpmdb.sqlite-wal"}}, ch); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(filepath.Join(dbdir, rpmdb.SQLiteFile+suffix)); err == nil {
			t.Errorf("%s left behind", suffix)
		}
	}
	goBlobs, goRows := dbRows(t, filepath.Join(dbdir, rpmdb.SQLiteFile))

	for name, want := range rpmBlobs {
		if !bytes.Equal(goBlobs[name], want) {
			t.Errorf("%s: installed header differs from rpm's (%d vs %d bytes)", name, len(goBlobs[name]), len(want))
			g, _ := rpm.ParseBlob(goBlobs[name])
			w, _ := rpm.ParseBlob(want)
			if g != nil && w != nil {
				t.Log(cmp.Diff(w.Entries(), g.Entries()))
			}
		}
	}
	for _, name := range []string{"beta", "gamma"} {
		if !bytes.Equal(goBlobs[name], beforeBlobs[name]) {
			t.Errorf("%s: untouched header changed", name)
		}
	}
	if diff := cmp.Diff(rpmRows, goRows); diff != "" {
		t.Errorf("index rows (-rpm +go):\n%s", diff)
	}
	if diff := cmp.Diff(rpmQueries(t, rpmRoot), rpmQueries(t, goRoot)); diff != "" {
		t.Errorf("rpm queries (-rpm +go):\n%s", diff)
	}
}

func TestBerkeleyDBIsReadOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Packages"), []byte("\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x61\x15\x06\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := rpmdb.Open(context.Background(), dir)
	var ro *rpmdb.ReadOnlyError
	if !errors.As(err, &ro) || !errors.Is(err, rpmdb.ErrReadOnly) || err.Error() != "rpmdb format BerkeleyDB is read-only in Patchloop" {
		t.Fatalf("err = %v", err)
	}
	if _, err := rpmdb.Open(context.Background(), t.TempDir()); !errors.Is(err, rpmdb.ErrNoDatabase) {
		t.Fatalf("empty dir: %v", err)
	}
}

// sqliteRoot returns a root whose sqlite database rpm filled with the old
// packages.
func sqliteRoot(t *testing.T) (root, dbdir string) {
	t.Helper()
	f := buildFixture(t)
	root = filepath.Join(t.TempDir(), "root")
	rpmbuild.InitDB(t, root)
	rpmbuild.Install(t, root, f.old...)
	return root, filepath.Join(root, "var/lib/rpm")
}

func TestSQLiteKeepsFileFormat(t *testing.T) {
	_, dbdir := sqliteRoot(t)
	path := filepath.Join(dbdir, rpmdb.SQLiteFile)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := rpmdb.Open(ctx, dbdir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Remove(ctx, 99); !errors.Is(err, rpmdb.ErrNoPackage) {
		t.Errorf("Remove(99) = %v", err)
	}
	if err := db.Remove(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Page size, WAL mode (file format versions 2), reserved bytes and
	// text encoding as rpm left them.
	for _, r := range [][2]int{{16, 22}, {56, 60}} {
		if !bytes.Equal(before[r[0]:r[1]], after[r[0]:r[1]]) {
			t.Errorf("header bytes %d..%d: %x, rpm had %x", r[0], r[1], after[r[0]:r[1]], before[r[0]:r[1]])
		}
	}
	stdout := rpmbuild.RPM(t, filepath.Dir(filepath.Dir(filepath.Dir(dbdir))), "-qa", "--qf", "%{NAME}\n")
	if got := strings.Fields(stdout); len(got) != 2 || slices.Contains(got, "beta") {
		t.Errorf("rpm -qa after removing beta: %q", got)
	}
}

func TestSQLiteRefusesForeignSchema(t *testing.T) {
	ctx := context.Background()
	for name, stmt := range map[string]string{
		"trigger": "CREATE TRIGGER t AFTER INSERT ON Packages BEGIN DELETE FROM Name; END",
		"view":    "CREATE VIEW v AS SELECT 1",
		"table":   "CREATE TABLE extra (x)",
		// SQLite refuses to create it, but a crafted file holds it and
		// SQLite loads it: a trigger named like an automatic index.
		"trigger named like an automatic index": "PRAGMA writable_schema=ON; INSERT INTO sqlite_master VALUES('trigger', 'sqlite_autoindex_Packages_9', 'Packages', 0, " +
			"'CREATE TRIGGER sqlite_autoindex_Packages_9 AFTER INSERT ON Packages BEGIN DELETE FROM Name; END'); PRAGMA writable_schema=OFF",
	} {
		t.Run(name, func(t *testing.T) {
			_, dbdir := sqliteRoot(t)
			db, err := sql.Open("sqlite", filepath.Join(dbdir, rpmdb.SQLiteFile))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(stmt); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if _, err := rpmdb.Open(ctx, dbdir); err == nil || !strings.Contains(err.Error(), "not an rpm database") {
				t.Errorf("Open = %v", err)
			}
		})
	}
	t.Run("damaged", func(t *testing.T) {
		_, dbdir := sqliteRoot(t)
		path := filepath.Join(dbdir, rpmdb.SQLiteFile)
		b, _ := os.ReadFile(path)
		for i := 4096 + 100; i < 8192; i++ {
			b[i] ^= 0x5a
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := rpmdb.Open(ctx, dbdir); err == nil {
			t.Error("damaged database opened")
		}
	})
}

func TestInstalledHeaderRefusesBadPackages(t *testing.T) {
	f := buildFixture(t)
	sig, main := readPackage(t, f.old[0])
	h, err := rpmdb.InstalledHeader(sig, main, time.Unix(1, 0), 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rpmdb.InstalledHeader(sig, h, time.Unix(1, 0), 7); !errors.Is(err, rpmdb.ErrBadPackage) {
		t.Errorf("header merged twice: %v", err)
	}
	legacy := rpm.NewHeader(0)
	legacy.Set(rpm.StringEntry(rpm.TagName, "x"))
	b, _ := legacy.Blob()
	legacyParsed, _ := rpm.ParseBlob(b)
	if _, err := rpmdb.InstalledHeader(sig, legacyParsed, time.Unix(1, 0), 7); !errors.Is(err, rpmdb.ErrBadPackage) {
		t.Errorf("v3 header: %v", err)
	}
	badSig := rpm.NewHeader(rpm.TagHeaderSignatures)
	badSig.Set(rpm.StringEntry(rpm.SigTagMD5, "not binary"))
	sb, _ := badSig.Blob()
	badSigParsed, _ := rpm.ParseBlob(sb)
	if _, err := rpmdb.InstalledHeader(badSigParsed, main, time.Unix(1, 0), 7); !errors.Is(err, rpmdb.ErrBadPackage) {
		t.Errorf("MD5 of the wrong type: %v", err)
	}
	// Deterministic, and main is left alone.
	h2, _ := rpmdb.InstalledHeader(sig, main, time.Unix(1, 0), 7)
	b1, _ := h.Blob()
	b2, _ := h2.Blob()
	if !bytes.Equal(b1, b2) || main.Has(rpm.TagInstallTime) {
		t.Error("InstalledHeader is not a pure function of its inputs")
	}
}

// TestInitSQLiteIsRPMs checks that a database made by InitSQLite has rpm's
// schema and that rpm reads the packages Patchloop adds to it.
func TestInitSQLiteIsRPMs(t *testing.T) {
	rpmRoot, rpmDir := sqliteRoot(t)
	goRoot := filepath.Join(t.TempDir(), "root")
	goDir := filepath.Join(goRoot, "var/lib/rpm")
	if err := os.MkdirAll(goDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := rpmdb.InitSQLite(ctx, goDir); err != nil {
		t.Fatal(err)
	}
	schema := func(dir string) []string {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, rpmdb.SQLiteFile)+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var typ, name, text string
			if err := rows.Scan(&typ, &name, &text); err != nil {
				t.Fatal(err)
			}
			out = append(out, typ+" "+name+": "+text)
		}
		return out
	}
	if diff := cmp.Diff(schema(rpmDir), schema(goDir)); diff != "" {
		t.Errorf("schema (-rpm +go):\n%s", diff)
	}
	db, err := rpmdb.Open(ctx, goDir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := rpmdb.Open(ctx, rpmDir)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := src.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = src.Close()
	for _, p := range pkgs {
		h, err := p.Header()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Add(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	_, wantRows := dbRows(t, filepath.Join(rpmDir, rpmdb.SQLiteFile))
	_, gotRows := dbRows(t, filepath.Join(goDir, rpmdb.SQLiteFile))
	if diff := cmp.Diff(wantRows, gotRows); diff != "" {
		t.Errorf("index rows (-rpm +go):\n%s", diff)
	}
	oldFiles := []string{"/usr/bin/alpha", "/usr/share/alpha/old.txt", "/usr/lib/beta/b", "/usr/bin/gamma", "/etc/alpha.conf"}
	if diff := cmp.Diff(rpmQueries(t, rpmRoot, oldFiles...), rpmQueries(t, goRoot, oldFiles...)); diff != "" {
		t.Errorf("rpm queries (-rpm +go):\n%s", diff)
	}
}

// TestReplacedFileStateMovesAsRPM installs a package whose file another
// package then replaces (rpm --replacefiles): rpm rewrites the first
// package's header with the file marked replaced. Setting FILESTATES on the
// header as stored before gives rpm's new header byte for byte.
func TestReplacedFileStateMovesAsRPM(t *testing.T) {
	rpmbuild.Need(t, "rpm", "rpmbuild")
	dir := t.TempDir()
	a := rpmbuild.Build(t, dir, rpmbuild.Spec{Name: "owner", Version: "1", Files: map[string]string{"/usr/bin/shared": "a\n", "/usr/bin/own": "o\n"}})
	b := rpmbuild.Build(t, dir, rpmbuild.Spec{Name: "taker", Version: "1", Files: map[string]string{"/usr/bin/shared": "b\n"}})
	root := filepath.Join(dir, "root")
	rpmbuild.InitDB(t, root)
	rpmbuild.Install(t, root, a)
	before, _ := dbRows(t, filepath.Join(root, "var/lib/rpm", rpmdb.SQLiteFile))
	rpmbuild.RPM(t, root, "-i", "--justdb", "--nodeps", "--nosignature", "--nodigest", "--noscripts", "--replacefiles", "--force-debian", b)
	after, _ := dbRows(t, filepath.Join(root, "var/lib/rpm", rpmdb.SQLiteFile))
	if bytes.Equal(before["owner"], after["owner"]) {
		t.Skip("rpm did not rewrite the replaced package's header")
	}
	h, err := rpm.ParseBlob(before["owner"])
	if err != nil {
		t.Fatal(err)
	}
	want, err := rpm.ParseBlob(after["owner"])
	if err != nil {
		t.Fatal(err)
	}
	states, err := want.Bytes(rpm.TagFileStates)
	if err != nil {
		t.Fatal(err)
	}
	h.Set(rpm.CharEntry(rpm.TagFileStates, states...))
	got, err := h.Blob()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, after["owner"]) {
		t.Errorf("header after Set differs from rpm's rewrite:\n%s", cmp.Diff(want.Entries(), h.Entries()))
	}
}
