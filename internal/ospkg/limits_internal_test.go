package ospkg

import (
	"errors"
	"strings"
	"testing"
)

// The caps on whole records and on the number of packages, checked on the
// parsers alone (the tests through Inspect are in limits_test.go).
func TestRecordAndPackageCaps(t *testing.T) {
	t.Parallel()
	const apkHead, dpkgHead = "P:musl\nV:1.2.4-r4\nA:x86_64\n", "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\n"
	// Lines just under MaxLineSize, enough of them to pass the record cap.
	fill := func(prefix string, n int) string {
		return strings.Repeat(prefix+strings.Repeat("f", MaxLineSize-len(prefix)-1)+"\n", n)
	}
	cases := []struct {
		name  string
		parse func() error
		parts []string
	}{
		{"apk record", func() error {
			_, err := parseApkInstalled([]byte(apkHead + fill("R:", MaxApkRecordSize/MaxLineSize+1)))
			return err
		}, []string{"line 1: record of", "33554432-byte cap"}},
		{"apk packages", func() error {
			_, err := parseApkInstalled([]byte(strings.Repeat("P:a\nV:1\n\n", MaxPackages+1)))
			return err
		}, []string{"line 300001", "more than 100000 packages"}},
		{"dpkg paragraph", func() error {
			_, err := parseDpkgStatus([]byte(dpkgHead+"Description: x\n"+fill(" ", MaxDpkgParagraphSize/MaxLineSize+1)), false)
			return err
		}, []string{"line 1: paragraph over the 8388608-byte cap", "8388608-byte cap"}},
		{"dpkg packages", func() error {
			_, err := parseDpkgStatus([]byte(strings.Repeat("Package: a\nVersion: 1\n\n", MaxPackages+1)), true)
			return err
		}, []string{"line 300001", "more than 100000 packages"}},
		{"inventory", func() error {
			// Packages with names near MaxIdentitySize fill MaxInventorySize
			// long before MaxPackages.
			rec := "P:" + strings.Repeat("n", MaxIdentitySize-10) + "\nV:1\n\n"
			_, err := parseApkInstalled([]byte(strings.Repeat(rec, MaxInventorySize/(2*MaxIdentitySize)+1)))
			return err
		}, []string{"inventory of", "33554432-byte cap"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.parse()
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			for _, p := range c.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not say %q", err, p)
				}
			}
		})
	}
}

// TestBDBOverflowClaim: an overflow value claiming more bytes than the file
// holds is refused before anything is allocated for it.
func TestBDBOverflowClaim(t *testing.T) {
	db := bdb{data: make([]byte, 4096), pageSize: 1024, pages: 4}
	if _, err := db.overflow(1, MaxRPMHeaderSize+1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("overflow over the header cap: err = %v, want ErrTooLarge", err)
	}
	if _, err := db.overflow(1, 1<<20); err == nil || !strings.Contains(err.Error(), "more than the 4096-byte file") {
		t.Errorf("overflow over the file size: err = %v", err)
	}
}
