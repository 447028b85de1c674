//go:build !unix

package workflow

import "io"

// lockFile does nothing where flock is missing: keeping to one process
// per SQLite file is then the operator's job.
func lockFile(string) (io.Closer, error) { return io.NopCloser(nil), nil }
