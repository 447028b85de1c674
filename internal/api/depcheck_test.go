package api_test

import (
	"os/exec"
	"strings"
	"testing"
)

// nonStandardDeps lists the packages outside the standard library that pkg
// links (itself included), as `go list -deps` sees them.
func nonStandardDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestLeaf keeps the API's types a leaf: whatever imports them (the client
// above all) links nothing but the standard library through them.
func TestLeaf(t *testing.T) {
	const self = "github.com/patchloop/patchloop/internal/api"
	for _, dep := range nonStandardDeps(t, self) {
		if dep != self {
			t.Errorf("internal/api imports %s: it may import only the standard library", dep)
		}
	}
}
