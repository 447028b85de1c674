package vulndb

import (
	"fmt"
	"runtime/debug"
)

// guard runs fn, turning the panics bbolt raises on corrupted pages, and
// the memory faults of reading a truncated file, into an error wrapping
// ErrNoDatabase. bbolt asserts page consistency with panics rather than
// errors, and the file may be damaged on disk.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s is corrupted (%v); %s", ErrNoDatabase, path, r, hint)
		}
	}()
	return fn()
}
