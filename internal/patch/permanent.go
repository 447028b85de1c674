package patch

import "errors"

// Permanent marks err as one that retrying cannot fix: the image, its
// packages or the repositories are such that the same patch fails the same
// way again (an unmet dependency, a conflict, an OS family no patcher
// handles). Patchers return such errors; the workflow engine fails the run
// at once instead of retrying it. Permanent(nil) is nil.
//
// The returned error matches err under errors.Is and errors.As, and its
// message is err's. A sentinel may itself be permanent:
//
//	var ErrConflict = patch.Permanent(errors.New("conflict"))
//
// and every error wrapping it (with %w) is then permanent too.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err says retrying is useless: the first
// error in its tree (errors.As order) with a method Permanent() bool
// decides, as the errors Permanent returns do (true). Errors of other
// packages take part by implementing that method.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// permanentError is an error retrying cannot fix.
type permanentError struct{ err error }

// Error returns the wrapped error's message.
func (p *permanentError) Error() string { return p.err.Error() }

// Unwrap returns the wrapped error.
func (p *permanentError) Unwrap() error { return p.err }

// Permanent returns true.
func (p *permanentError) Permanent() bool { return true }

// Errors any patcher's plan can fail with; all are permanent, since the
// same image and repositories give the same plan. Patchers wrap them (with
// %w) naming the packages at fault.
var (
	// ErrUnmetDependency: a package of the plan depends on something that
	// neither the image nor the configured repositories provide.
	ErrUnmetDependency = Permanent(errors.New("unmet dependency"))
	// ErrConflict: the plan would install packages that conflict with each
	// other or with the image.
	ErrConflict = Permanent(errors.New("conflicting packages"))
	// ErrNoConvergence: the dependency closure did not settle within its
	// bound.
	ErrNoConvergence = Permanent(errors.New("dependency resolution did not converge"))
)
