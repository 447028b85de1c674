package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies fences the client: a program that only calls the API
// links the API's types and the standard library, never the engine.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	const (
		mod  = "github.com/patchloop/patchloop/"
		self = mod + "internal/client"
	)
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", self).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", self, err)
	}
	deps := strings.Fields(string(out))
	allowed := map[string]bool{self: true, mod + "internal/api": true}
	// The engine's parts, named so that a failure says what crept in.
	forbidden := []string{"riverqueue.com/river", "github.com/riverqueue/", "modernc.org/sqlite", "go.etcd.io/bbolt",
		"github.com/jackc/pgx", mod + "internal/workflow", mod + "internal/store", mod + "internal/server"}
	for _, dep := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("internal/client links %s (engine)", dep)
			}
		}
		if !allowed[dep] {
			t.Errorf("internal/client links %s: it may link only internal/api and the standard library", dep)
		}
	}
	if len(deps) != len(allowed) {
		t.Errorf("internal/client links %d packages outside the standard library, want %d: %v", len(deps), len(allowed), deps)
	}
}
