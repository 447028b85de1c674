// Package redact keeps credentials out of what Patchloop prints and stores.
//
// A repository URL may carry a login, as apt allows in sources.list
// ("http://user:secret@mirror/debian"). Apt never prints the password (its
// URI::NoUserPassword drops the login from what it shows); Patchloop keeps
// the user name, which helps to tell logins apart, and replaces the
// password with "***", as Go's net/http does in its errors. String works
// on any text (error messages, log lines), Handler on every log record.
package redact

import (
	"context"
	"log/slog"
	"regexp"
)

// Mask replaces a password.
const Mask = "***"

// userinfo matches "scheme://user:password@": the scheme, the user and the
// password (which may be empty); RFC 3986 allows neither "/" nor "@" nor
// white space in either.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^/@\s:"'<>]*):([^/@\s"'<>]*)@`)

// String returns s with the password of every URL in it replaced by Mask:
// "http://user:secret@host/x" becomes "http://user:***@host/x".
func String(s string) string {
	if !userinfo.MatchString(s) {
		return s
	}
	return userinfo.ReplaceAllString(s, "${1}${2}:"+Mask+"@")
}

// Handler wraps h so that the message and every string, error and
// Stringer value of a record (groups included) pass through String.
func Handler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ next slog.Handler }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = attr(a)
	}
	return handler{h.next.WithAttrs(red)}
}

func (h handler) WithGroup(name string) slog.Handler { return handler{h.next.WithGroup(name)} }

// attr redacts one attribute.
func attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String()))
	case slog.KindGroup:
		as := v.Group()
		red := make([]any, len(as))
		for i, g := range as {
			red[i] = attr(g)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			if s := x.Error(); String(s) != s {
				return slog.String(a.Key, String(s))
			}
		case interface{ String() string }:
			if s := x.String(); String(s) != s {
				return slog.String(a.Key, String(s))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// Error returns err with its message passed through String, keeping err
// for errors.Is and errors.As; nil stays nil. Use it where an error's text
// leaves the process or is stored (job queues, API answers).
func Error(err error) error {
	if err == nil {
		return nil
	}
	if s := err.Error(); String(s) == s {
		return err
	}
	return redacted{err}
}

type redacted struct{ err error }

func (r redacted) Error() string { return String(r.err.Error()) }
func (r redacted) Unwrap() error { return r.err }
