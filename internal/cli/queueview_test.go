package cli

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/client"
	"github.com/patchloop/patchloop/internal/dashboard"
)

// TestServeQueueView: River's UI answers under /river/ on serve's SQLite
// engine, only after the dashboard's login: 303 to the login page for a
// page, 401 for its API without a session; 200 with one.
func TestServeQueueView(t *testing.T) {
	_, dir, _ := serveEngine(t)
	base := os.Getenv(client.EnvServer)
	token, err := os.ReadFile(dir + "/token")
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}

	if code, loc, _ := get("/river/"); code != http.StatusSeeOther || loc != "/login?next=%2Friver%2F" {
		t.Errorf("GET /river/ without a session: %d to %q", code, loc)
	}
	if code, _, _ := get("/river/api/queues"); code != http.StatusUnauthorized {
		t.Errorf("GET /river/api/queues without a session: %d, want 401", code)
	}

	// Log in as a browser does: the form's CSRF token, then the API token.
	_, _, page := get("/login")
	m := regexp.MustCompile(`name="` + dashboard.CSRFField + `" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the login page:\n%s", page)
	}
	resp, err := c.PostForm(base+"/login", url.Values{dashboard.CSRFField: {m[1]}, "token": {strings.TrimSpace(string(token))}, "next": {"/river/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/river/" {
		t.Fatalf("log in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _, body := get("/river/"); code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Errorf("GET /river/ logged in: %d\n%.300s", code, body)
	}
	code, _, body := get("/river/api/queues")
	for _, q := range []string{`"name":"trigger"`, `"name":"scan"`, `"name":"patch"`} {
		if code != http.StatusOK || !strings.Contains(body, q) {
			t.Errorf("GET /river/api/queues logged in: %d, want queue %s:\n%.500s", code, q, body)
		}
	}
}
