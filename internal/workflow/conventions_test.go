package workflow

import (
	"context"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/patch/patchtest"
	"github.com/patchloop/patchloop/internal/testutil/aptrepo"
)

// TestConventionsOverCycles patches an image in one cycle; a new
// vulnerability then appears (new database, new package, engine
// restarted on the same state) and the next cycle, scanning the patch,
// patches the original again under the next tag.
func TestConventionsOverCycles(t *testing.T) {
	for _, tc := range []struct {
		conv          string
		first, second string
		tags          string
	}{
		{"incremental", "app:1.0-1", "app:1.0-2", "1.0,1.0-1,1.0-2"},
		{"floating", "app:1.0-patched", "app:1.0-patched", "1.0,1.0-patched"},
	} {
		t.Run(tc.conv, func(t *testing.T) {
			f := newFixture(t)
			f.push(t, f.debian(t, "1.0-1"), "app", "1.0")
			e := f.start(t)
			f.create(t, e, configOf(tc.conv, "app"), false)

			f.runCycle(t, e, day)
			st := imageStatuses(t, e, f.host, "")["app:1.0"]
			if st.Patch == nil || st.Patch.Result.PatchedImage != tc.first || st.LastPatchedImage != tc.first {
				t.Fatalf("cycle 1: %s", show(st))
			}
			firstDigest := st.Patch.Result.PatchedDigest
			if err := e.Close(context.Background()); err != nil {
				t.Fatal(err)
			}

			// hello 1.0-3 fixes a new vulnerability of 1.0-2.
			f.repo.Update(t, func(c *aptrepo.Config) {
				c.Suites[1].Packages = append(c.Suites[1].Packages, hello("1.0-3"))
			})
			f.vulnDir = patchtest.WriteDatabase(t, "debian 12", advisory1, advisory2)
			e = f.start(t)
			f.runCycle(t, e, day)
			st = imageStatuses(t, e, f.host, "")["app:1.0"]
			if st.Scan.Cycle != 2 || st.Scan.Result.ScannedImage != tc.first || st.Patch == nil ||
				st.Patch.Status != StatusSucceeded || st.Patch.Result.PatchedImage != tc.second || st.LastPatchedImage != tc.second {
				t.Fatalf("cycle 2: %s", show(st))
			}
			if st.Patch.Result.PatchedDigest == firstDigest || f.digest(t, "app", strings.TrimPrefix(tc.second, "app:")) != st.Patch.Result.PatchedDigest {
				t.Errorf("the second patch is not what %s points at", tc.second)
			}
			if got := strings.Join(f.tags(t, "app"), ","); got != tc.tags {
				t.Errorf("tags = %s, want %s", got, tc.tags)
			}

			f.runCycle(t, e, day)
			st = imageStatuses(t, e, f.host, "")["app:1.0"]
			if st.Patch != nil || st.SkippedReason != "no vulnerability found in the image app:1.0" || st.LastPatchedImage != tc.second {
				t.Fatalf("cycle 3: %s", show(st))
			}
			// The history of all three cycles survived the restart.
			if n := len(runsOf(t, e, f.host, TaskTrigger)); n != 3 {
				t.Errorf("%d trigger runs, want 3", n)
			}
		})
	}
}
