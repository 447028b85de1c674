package vulndb_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/patchloop/patchloop/internal/vulndb"
)

// TestCorruptPagesGiveErrors damages one page at a time (past the two meta
// pages) and checks that every lookup returns instead of panicking, and
// that damage bbolt notices is reported as an unusable database.
func TestCorruptPagesGiveErrors(t *testing.T) {
	const pageSize = 4096
	clean, err := os.ReadFile(filepath.Join(writeSample(t), vulndb.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	detected := 0
	for off := 2 * pageSize; off < len(clean); off += pageSize {
		dir := writeSample(t)
		damaged := append([]byte(nil), clean...)
		for i := off; i < off+pageSize; i++ {
			damaged[i] = 0xA5
		}
		writeFile(t, filepath.Join(dir, vulndb.DBFile), string(damaged))

		errs := lookUpEverything(t, dir)
		for _, err := range errs {
			if errors.Is(err, vulndb.ErrNoDatabase) {
				detected++
				break
			}
		}
	}
	if detected == 0 {
		t.Error("no damaged page was reported as a corrupted database")
	}
}

// lookUpEverything opens dir and reads every advisory and vulnerability of
// the sample, returning the errors met.
func lookUpEverything(t *testing.T, dir string) []error {
	db, err := vulndb.Open(t.Context(), dir)
	if err != nil {
		return []error{err}
	}
	defer func() { _ = db.Close() }()
	var errs []error
	for _, p := range sample().Platforms {
		for pkg := range p.Packages {
			if _, err := db.Advisories(t.Context(), p.Name, pkg); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, v := range sample().Vulnerabilities {
		if _, err := db.Vulnerability(t.Context(), v.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
