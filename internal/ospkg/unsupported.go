package ospkg

import "errors"

// ErrUnsupportedOS is matched (errors.Is) by the error Inspect returns for
// images whose OS it cannot inventory: Windows images, and images with no
// recognisable OS release file.
var ErrUnsupportedOS = errors.New("unsupported OS")

// UnsupportedOSError says why an image is not supported.
type UnsupportedOSError struct {
	// Reason is a short human-readable explanation.
	Reason string
}

// Error implements error.
func (e *UnsupportedOSError) Error() string { return "unsupported OS: " + e.Reason }

// Is makes errors.Is(err, ErrUnsupportedOS) true.
func (e *UnsupportedOSError) Is(target error) bool { return target == ErrUnsupportedOS }

// Reasons used by Inspect.
const (
	ReasonWindows = "windows images are not supported"
	ReasonNoOS    = "no OS release file found (etc/os-release, etc/debian_version, etc/alpine-release, ...)"
)
