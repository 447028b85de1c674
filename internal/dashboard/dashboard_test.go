package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/patch"
	_ "github.com/patchloop/patchloop/internal/patch/apt" // the engine needs a patcher
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/workflow"
)

const testToken = "the-right-token-0123456789abcdef"

// newTestDashboard returns a dashboard over a real engine on SQLite (not
// started: the pages read, nothing runs) and its clock.
func newTestDashboard(t *testing.T, mods ...func(*Options)) (*Dashboard, *time.Time) {
	t.Helper()
	dir := t.TempDir()
	e, err := workflow.New(context.Background(), workflow.Options{
		Database:  filepath.Join(dir, "patchloop.db"),
		Registry:  registry.New(),
		VulnDBDir: filepath.Join(dir, "db"),
		Patch:     patch.Config{DataDir: dir},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	opts := Options{Now: func() time.Time { return now }}
	for _, m := range mods {
		m(&opts)
	}
	d, err := New(e, testToken, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, &now
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// request serves one request; cookies are added to it.
func request(d *Dashboard, method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	d.ServeHTTP(w, r)
	return w
}

func cookie(t *testing.T, w *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, w.Result().Header["Set-Cookie"])
	return nil
}

// loginForm opens the login page and returns its CSRF cookie and token.
func loginForm(t *testing.T, d *Dashboard) (*http.Cookie, string) {
	t.Helper()
	w := request(d, "GET", "/login", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /login: %d", w.Code)
	}
	c := cookie(t, w, LoginCSRFCookie)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/login" {
		t.Errorf("login CSRF cookie = %+v, want HttpOnly, SameSite=Strict, Path=/login", c)
	}
	m := csrfField.FindStringSubmatch(w.Body.String())
	if m == nil || m[1] != c.Value {
		t.Fatalf("login form's CSRF field %v does not match its cookie %q", m, c.Value)
	}
	return c, m[1]
}

// logIn logs in and returns the session cookie and the session's CSRF token.
func logIn(t *testing.T, d *Dashboard) (*http.Cookie, string) {
	t.Helper()
	c, tok := loginForm(t, d)
	w := request(d, "POST", "/login", url.Values{"csrf": {tok}, "token": {testToken}, "next": {"/runs"}}, c)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/runs" {
		t.Fatalf("log in: %d to %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	sess := cookie(t, w, SessionCookie)
	w = request(d, "GET", "/", nil, sess)
	m := csrfField.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		t.Fatalf("GET / after login: %d\n%s", w.Code, w.Body)
	}
	return sess, m[1]
}

func TestLoginRequired(t *testing.T) {
	t.Parallel()
	d, _ := newTestDashboard(t)
	w := request(d, "GET", "/runs?task=cssc-scan-image", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2Fruns%3Ftask%3Dcssc-scan-image" {
		t.Errorf("GET /runs without a session: %d to %q", w.Code, w.Header().Get("Location"))
	}
	w = request(d, "POST", "/workflows/localhost:5000/cancel", url.Values{"csrf": {"x"}})
	if w.Code != http.StatusForbidden {
		t.Errorf("POST without a session: %d, want 403", w.Code)
	}
}

func TestLoginSessionCookie(t *testing.T) {
	t.Parallel()
	d, _ := newTestDashboard(t)
	c, tok := loginForm(t, d)
	w := request(d, "POST", "/login", url.Values{"csrf": {tok}, "token": {testToken}}, c)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("log in: %d to %q", w.Code, w.Header().Get("Location"))
	}
	sess := cookie(t, w, SessionCookie)
	if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" || sess.Secure ||
		sess.MaxAge != int(DefaultSessionLifetime.Seconds()) || strings.Contains(sess.Value, testToken) {
		t.Errorf("session cookie = %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP, 12 h, without the token", sess)
	}
	// Over TLS the cookie is Secure.
	r := httptest.NewRequest("POST", "https://patchloop.example/login", strings.NewReader(url.Values{"csrf": {tok}, "token": {testToken}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(c)
	tw := httptest.NewRecorder()
	d.ServeHTTP(tw, r)
	if s := cookie(t, tw, SessionCookie); !s.Secure {
		t.Errorf("session cookie over TLS = %+v, want Secure", s)
	}
}

func TestLoginRejects(t *testing.T) {
	t.Parallel()
	d, _ := newTestDashboard(t)
	c, tok := loginForm(t, d)
	cases := []struct {
		name    string
		form    url.Values
		cookies []*http.Cookie
		origin  string
		status  int
		body    string
	}{
		{"wrong token", url.Values{"csrf": {tok}, "token": {"wrong-token-0123456789"}}, []*http.Cookie{c}, "", http.StatusUnauthorized, "Wrong API token"},
		{"no CSRF field", url.Values{"token": {testToken}}, []*http.Cookie{c}, "", http.StatusForbidden, "CSRF token is missing or wrong"},
		{"no CSRF cookie", url.Values{"csrf": {tok}, "token": {testToken}}, nil, "", http.StatusForbidden, "CSRF token is missing or wrong"},
		{"CSRF mismatch", url.Values{"csrf": {tok + "x"}, "token": {testToken}}, []*http.Cookie{c}, "", http.StatusForbidden, "CSRF token is missing or wrong"},
		{"other origin", url.Values{"csrf": {tok}, "token": {testToken}}, []*http.Cookie{c}, "https://evil.example", http.StatusForbidden, "CSRF token is missing or wrong"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/login", strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			for _, c := range tc.cookies {
				r.AddCookie(c)
			}
			w := httptest.NewRecorder()
			d.ServeHTTP(w, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("status %d, want %d with %q:\n%s", w.Code, tc.status, tc.body, w.Body)
			}
			for _, c := range w.Result().Cookies() {
				if c.Name == SessionCookie {
					t.Errorf("a session cookie was set: %+v", c)
				}
			}
		})
	}
}

func TestLoginNextStaysOnSite(t *testing.T) {
	t.Parallel()
	d, _ := newTestDashboard(t)
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "runs"} {
		c, tok := loginForm(t, d)
		w := request(d, "POST", "/login", url.Values{"csrf": {tok}, "token": {testToken}, "next": {next}}, c)
		if loc := w.Header().Get("Location"); loc != "/" {
			t.Errorf("next %q: redirected to %q, want /", next, loc)
		}
	}
}

func TestActionsNeedCSRF(t *testing.T) {
	t.Parallel()
	d, _ := newTestDashboard(t)
	sess, tok := logIn(t, d)
	for _, form := range []url.Values{{}, {"csrf": {"forged"}}, {"csrf": {d.csrfToken("1.other-session")}}} {
		for _, path := range []string{"/workflows/localhost:5000/cancel", "/workflows/localhost:5000/run", "/logout"} {
			w := request(d, "POST", path, form, sess)
			if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "CSRF token is missing or wrong") {
				t.Errorf("POST %s with %v: %d, want 403", path, form, w.Code)
			}
		}
	}
	// With the token the request reaches the service, which has no such
	// workflow.
	w := request(d, "POST", "/workflows/localhost:5000/cancel", url.Values{"csrf": {tok}}, sess)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "has no continuouspatchv1 workflow") {
		t.Errorf("cancel with the CSRF token: %d\n%s", w.Code, w.Body)
	}
	w = request(d, "POST", "/logout", url.Values{"csrf": {tok}}, sess)
	if c := cookie(t, w, SessionCookie); w.Code != http.StatusSeeOther || c.MaxAge >= 0 {
		t.Errorf("logout: %d, cookie %+v", w.Code, c)
	}
}

func TestSessionExpiresAndFollowsToken(t *testing.T) {
	t.Parallel()
	d, now := newTestDashboard(t)
	sess, _ := logIn(t, d)
	other, err := New(d.svc, "another-token-0123456789abcdef", Options{Now: d.opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	if w := request(other, "GET", "/", nil, sess); w.Code != http.StatusSeeOther {
		t.Errorf("a session of another token: %d, want a redirect to the login", w.Code)
	}
	forged := &http.Cookie{Name: SessionCookie, Value: "99999999999." + strings.Split(sess.Value, ".")[1]}
	if w := request(d, "GET", "/", nil, forged); w.Code != http.StatusSeeOther {
		t.Errorf("a session with a changed expiry: %d, want a redirect", w.Code)
	}
	*now = now.Add(DefaultSessionLifetime + time.Second)
	if w := request(d, "GET", "/", nil, sess); w.Code != http.StatusSeeOther {
		t.Errorf("an expired session: %d, want a redirect", w.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	d, _ := newTestDashboard(t)
	w := request(d, "GET", "/login", nil)
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := w.Header().Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if w := request(d, "GET", "/static/app.js", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "data-live") {
		t.Errorf("GET /static/app.js: %d", w.Code)
	}
}

// TestQueueViewBehindLogin: the queue view answers only with a session:
// its pages redirect to the login, its API answers 401, other sites may
// not change anything.
func TestQueueViewBehindLogin(t *testing.T) {
	t.Parallel()
	d, _ := newTestDashboard(t, func(o *Options) {
		o.Queue = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("queue " + r.URL.Path)) })
	})
	w := request(d, "GET", "/river/", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2Friver%2F" {
		t.Errorf("GET /river/ without a session: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if w = request(d, "GET", "/river/api/jobs", nil); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /river/api/jobs without a session: %d, want 401", w.Code)
	}
	if w = request(d, "POST", "/river/api/jobs/cancel", nil); w.Code != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d, want 401", w.Code)
	}
	sess, _ := logIn(t, d)
	if w = request(d, "GET", "/river/api/jobs", nil, sess); w.Code != http.StatusOK || w.Body.String() != "queue /river/api/jobs" {
		t.Errorf("GET /river/api/jobs with a session: %d %q", w.Code, w.Body)
	}
	r := httptest.NewRequest("POST", "/river/api/jobs/cancel", nil)
	r.AddCookie(sess)
	r.Header.Set("Origin", "https://evil.example")
	w = httptest.NewRecorder()
	d.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("POST from another site: %d, want 403", w.Code)
	}

	plain, _ := newTestDashboard(t)
	sess, _ = logIn(t, plain)
	if w = request(plain, "GET", "/river/", nil, sess); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "queue view is not available") {
		t.Errorf("no queue view: %d\n%s", w.Code, w.Body)
	}
}

func TestImageRowSigned(t *testing.T) {
	st := workflow.ImageStatus{Image: "app:1.0", Patch: &workflow.Run{Status: workflow.StatusSucceeded, Result: workflow.RunResult{Signed: []string{"cosign", "notation"}}}}
	if got := newImageRow(st).Signed; got != "cosign, notation" {
		t.Errorf("signed = %q", got)
	}
	st.Patch.Status = workflow.StatusFailed
	if got := newImageRow(st).Signed; got != "" {
		t.Errorf("failed patch: signed = %q", got)
	}
}
