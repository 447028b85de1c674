package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/patchloop/patchloop/internal/vulndb"
	"github.com/patchloop/patchloop/internal/workflow"
)

// DefaultMaxDBAge is how old the vulnerability database may be (since it
// was built) before /readyz reports the service not ready. Trivy's
// database is rebuilt every few hours and serve updates it before every
// cycle; a week means updates have been failing for long.
const DefaultMaxDBAge = 7 * 24 * time.Hour

// Readiness is the body of GET /readyz.
type Readiness struct {
	// Status is "ready" or "not ready".
	Status string `json:"status"`
	// Reason says what is wrong and what to do; empty when ready.
	Reason string `json:"reason,omitempty"`
	// VulnDBUpdatedAt is when the vulnerability database was built.
	VulnDBUpdatedAt *time.Time `json:"vulnDBUpdatedAt,omitempty"`
}

// ReadyOptions configure the readiness check.
type ReadyOptions struct {
	// VulnDBDir is the vulnerability database directory; required.
	VulnDBDir string
	// MaxDBAge is how old the database may be (default DefaultMaxDBAge).
	MaxDBAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Ready serves /readyz: 200 when the service's database answers and the
// vulnerability database is present and fresh, else 503 with the reason,
// both as JSON. It needs no token.
func Ready(svc workflow.Service, o ReadyOptions) http.Handler {
	if o.MaxDBAge <= 0 {
		o.MaxDBAge = DefaultMaxDBAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		res := check(ctx, svc, o)
		status := http.StatusOK
		if res.Reason != "" {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(res) // a write error means the client left
	})
}

func check(ctx context.Context, svc workflow.Service, o ReadyOptions) Readiness {
	notReady := func(format string, args ...any) Readiness {
		return Readiness{Status: "not ready", Reason: fmt.Sprintf(format, args...)}
	}
	if _, err := svc.Workflows(ctx); err != nil {
		return notReady("the service's database does not answer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(o.VulnDBDir, vulndb.DBFile)); errors.Is(err, fs.ErrNotExist) {
		return notReady("no vulnerability database in %s: run `patchloop db update` (offline: `patchloop db import FILE`) with serve's --data-dir, restart serve without --skip-db-update, or give serve --db DIR", o.VulnDBDir)
	} else if err != nil {
		return notReady("vulnerability database: %v", err)
	}
	meta, err := vulndb.ReadMetadata(o.VulnDBDir)
	if err != nil {
		return notReady("vulnerability database in %s: %v", o.VulnDBDir, err)
	}
	res := Readiness{Status: "ready", VulnDBUpdatedAt: &meta.UpdatedAt}
	if age := o.Now().Sub(meta.UpdatedAt); age > o.MaxDBAge {
		res.Status = "not ready"
		res.Reason = fmt.Sprintf("the vulnerability database in %s was built %s ago (at %s), more than %s: updates are failing; see serve's log or run `patchloop db update`",
			o.VulnDBDir, age.Round(time.Minute), meta.UpdatedAt.UTC().Format(time.RFC3339), o.MaxDBAge)
	}
	return res
}
