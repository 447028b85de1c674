package apt

import (
	"context"

	archive "github.com/patchloop/patchloop/internal/apt"
)

// LoadKeyring reads a keyring file (binary .gpg or armored .asc) for
// Options.Keyring.
func LoadKeyring(ctx context.Context, path string) (*archive.Keyring, error) {
	return archive.LoadKeyringFiles(ctx, path)
}
