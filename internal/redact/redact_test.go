package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"http://user:pass@mirror.example/debian":              "http://user:***@mirror.example/debian",
		"GET https://u:p%40ss@h:8080/dists/x/InRelease: 404":  "GET https://u:***@h:8080/dists/x/InRelease: 404",
		"source http://a:b@h/ bookworm, http://c:d@i/ trixie": "source http://a:***@h/ bookworm, http://c:***@i/ trixie",
		"http://user:@h/":                                               "http://user:***@h/",
		`"http://user:pass@h/"`:                                         `"http://user:***@h/"`,
		"postgres://patchloop:s3cret@db/patchloop":                      "postgres://patchloop:***@db/patchloop",
		"http://user@h/ (no password) and http://h/a:b@c is a path":     "http://user@h/ (no password) and http://h/a:b@c is a path",
		"mail alice:x@example.org is not a URL; http://plain.example/x": "mail alice:x@example.org is not a URL; http://plain.example/x",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

// String agrees with net/url about what the password is.
func TestStringMatchesNetURL(t *testing.T) {
	u := &url.URL{Scheme: "https", User: url.UserPassword("bob", "p:w/d@x y"), Host: "h", Path: "/debian"}
	got := String(u.String())
	if strings.Contains(got, "p:w") || strings.Contains(got, "x y") || strings.Contains(got, "%40") || !strings.HasPrefix(got, "https://bob:***@h/debian") {
		t.Errorf("String(%q) = %q", u.String(), got)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewTextHandler(&buf, nil))).With("mirror", "http://m:pw1@h/")
	log.WithGroup("g").Info("fetching http://u:pw2@h/x", "uri", "http://u:pw3@h/", "err", errors.New("GET http://u:pw4@h/: 404"),
		"ref", stringer("http://u:pw5@h/"), slog.Group("src", "uri", "http://u:pw6@h/"), "n", 3)
	out := buf.String()
	for _, secret := range []string{"pw1", "pw2", "pw3", "pw4", "pw5", "pw6"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s logged:\n%s", secret, out)
		}
	}
	for _, want := range []string{"mirror=http://m:***@h/", "uri=http://u:***@h/", "n=3", "g.src.uri=http://u:***@h/"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
