package workflow

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// A repository login in an image's sources reaches neither the run's error,
// its log nor any database row (River's jobs included) with its password.
func TestRepositoryPasswordIsRedacted(t *testing.T) {
	const secret = "s3cr3t-pw"
	f := newFixture(t)
	cred := strings.Replace(f.repo.URL, "http://", "http://alice:"+secret+"@", 1)
	img := patchtest.Image(t, patchtest.ImageSpec{
		Release:  patchtest.Bookworm,
		Packages: []aptrepo.Package{hello("1.0-1")},
		// The second suite does not exist: the patch fails naming it.
		SourcesList: "deb " + cred + " bookworm main\ndeb " + cred + " bookworm-missing main\n",
		Keyring:     f.repo.Keyring,
	})
	f.push(t, img, "cred", "1.0")
	e := f.start(t)
	f.create(t, e, configOf("incremental", "cred"), false)
	f.runCycle(t, e, day)

	patches := runsOf(t, e, f.host, TaskPatch)
	if len(patches) != 1 || patches[0].Status != StatusFailed {
		t.Fatalf("patch runs = %+v", patches)
	}
	redacted := "http://alice:***@"
	if msg := patches[0].Error; strings.Contains(msg, secret) || !strings.Contains(msg, redacted) {
		t.Errorf("run error = %q; want the URL with %s", msg, redacted)
	}
	log, err := e.RunLog(context.Background(), patches[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log, secret) || !strings.Contains(log, redacted) {
		t.Errorf("run log shows the password or no URL:\n%s", log)
	}
	// The run log says which keyring verified which source.
	want := `msg="apt patcher: source verified by keyring" source="` + strings.Replace(cred, secret, "***", 1) + ` bookworm" origin=/etc/apt/sources.list:1 keyring="the image's trusted keys`
	if !strings.Contains(log, want) {
		t.Errorf("run log lacks %s:\n%s", want, log)
	}

	// Every text of every row of the database.
	db, err := sql.Open("sqlite", "file:"+f.database+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	found := 0
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				if strings.Contains(s, secret) {
					t.Errorf("table %s column %s holds the password: %.300s", table, cols[i], s)
				}
				if strings.Contains(s, redacted) {
					found++
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if found == 0 {
		t.Errorf("no row names the repository (tables %v): the test checks nothing", tables)
	}
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
