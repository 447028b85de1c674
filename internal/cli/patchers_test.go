package cli

// The binary links the patchers in cmd/patchloop; the CLI's tests link
// them here.
import (
	_ "github.com/patchloop/patchloop/internal/patch/apk"
	_ "github.com/patchloop/patchloop/internal/patch/apt"
	_ "github.com/patchloop/patchloop/internal/patch/rpm"
)
