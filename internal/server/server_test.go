package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchloop/patchloop/internal/api"
)

const testToken = "test-token-0123456789-abcdefghijklmnop"

// stub is a api.Service whose every call returns err (or nothing), for
// the HTTP mapping tests; internal/client tests the full round trip.
type stub struct {
	api.Service // nil: calls not overridden here are not used
	err         error
	gotCreate   api.CreateRequest
}

func (s *stub) Create(_ context.Context, req api.CreateRequest) (*api.Workflow, error) {
	s.gotCreate = req
	if s.err != nil {
		return nil, s.err
	}
	return &api.Workflow{Registry: req.Registry, Type: req.Type}, nil
}

func (s *stub) Get(context.Context, string, string) (*api.Workflow, error) {
	return nil, s.err
}

func (s *stub) RunLog(context.Context, string) (string, error) { return "line 1\n", s.err }

func newTestServer(t *testing.T, svc api.Service) (*httptest.Server, *strings.Builder) {
	t.Helper()
	var logs strings.Builder
	srv, err := New(svc, testToken, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs, &logs
}

func call(t *testing.T, method, url, token, body string) (int, api.ErrorResponse, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e api.ErrorResponse
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("%s %s: error body is not JSON: %q", method, url, data)
		}
	}
	return resp.StatusCode, e, resp.Header
}

func TestAuth(t *testing.T) {
	hs, logs := newTestServer(t, &stub{})
	for _, tok := range []string{"", "wrong-token-0123456789", testToken + "x", strings.ToUpper(testToken)} {
		code, e, h := call(t, "GET", hs.URL+"/v1/workflows/localhost:5000/continuouspatchv1", tok, "")
		if code != http.StatusUnauthorized || e.Code != api.CodeUnauthorized || !strings.Contains(e.Error, "API token") {
			t.Errorf("token %q: %d %+v", tok, code, e)
		}
		if h.Get("WWW-Authenticate") == "" {
			t.Errorf("token %q: no WWW-Authenticate", tok)
		}
	}
	// Health needs no token; unknown routes are 404 only once authenticated.
	if code, _, _ := call(t, "GET", hs.URL+"/healthz", "", ""); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	if code, _, _ := call(t, "GET", hs.URL+"/v1/nothing", "", ""); code != http.StatusUnauthorized {
		t.Errorf("unknown route without token: %d", code)
	}
	if code, e, _ := call(t, "GET", hs.URL+"/v1/nothing", testToken, ""); code != http.StatusNotFound || e.Error == "" {
		t.Errorf("unknown route: %d %+v", code, e)
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token was logged:\n%s", logs)
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("workflow continuouspatchv1 in r: %w", api.ErrNotFound), 404, api.CodeNotFound},
		{fmt.Errorf("run ab12: %w", api.ErrRunNotFound), 404, api.CodeRunNotFound},
		{fmt.Errorf("r: %w", api.ErrExists), 409, api.CodeExists},
		{fmt.Errorf("c.json:3:5: repositories[0].tags: empty: %w", api.ErrInvalidInput), 400, api.CodeInvalidInput},
		{fmt.Errorf("1200 images: %w", api.ErrTooManyImages), 400, api.CodeTooManyImages},
		{fmt.Errorf("database is locked"), 500, api.CodeInternal},
	}
	for _, c := range cases {
		hs, logs := newTestServer(t, &stub{err: c.err})
		code, e, _ := call(t, "GET", hs.URL+"/v1/workflows/localhost:5000/continuouspatchv1", testToken, "")
		if code != c.status || e.Code != c.code || e.Error != c.err.Error() {
			t.Errorf("%v: got %d %+v, want %d %s with the message kept", c.err, code, e, c.status, c.code)
		}
		if logged := strings.Contains(logs.String(), "api request failed"); logged != (c.status == 500) {
			t.Errorf("%v: logged=%v:\n%s", c.err, logged, logs)
		}
		if got := api.Sentinel(c.code); c.status != 500 && (got == nil || !errors.Is(c.err, got)) {
			t.Errorf("Sentinel(%q) = %v", c.code, got)
		}
	}
}

func TestBodies(t *testing.T) {
	svc := &stub{}
	hs, _ := newTestServer(t, svc)
	url := hs.URL + "/v1/workflows"
	if code, e, _ := call(t, "POST", url, testToken, "{not json"); code != 400 || e.Code != api.CodeInvalidInput {
		t.Errorf("bad JSON: %d %+v", code, e)
	}
	for _, trailing := range []string{`{"registry":"r"} {"registry":"s"}`, `{"registry":"r"}x`, `{"registry":"r"}]`, `{} {`} {
		if code, e, _ := call(t, "POST", url, testToken, trailing); code != 400 || e.Code != api.CodeInvalidInput || !strings.Contains(e.Error, "trailing data") {
			t.Errorf("trailing data %q: %d %+v", trailing, code, e)
		}
	}
	if code, e, _ := call(t, "POST", url, testToken, "{\"registry\":\"r\"}\n \t\n"); code != http.StatusCreated {
		t.Errorf("trailing white space: %d %+v", code, e)
	}
	big := `{"config":"` + strings.Repeat("A", MaxRequestBytes) + `"}`
	if code, e, _ := call(t, "POST", url, testToken, big); code != http.StatusRequestEntityTooLarge || e.Code != api.CodeTooLarge {
		t.Errorf("big body: %d %+v", code, e)
	}
	// A 10 MiB config fits once base64-encoded.
	cfg := strings.Repeat("x", 10<<20)
	body, _ := json.Marshal(api.CreateRequest{Registry: "r", Type: "continuouspatchv1", Config: []byte(cfg)})
	if code, e, _ := call(t, "POST", url, testToken, string(body)); code != http.StatusCreated {
		t.Fatalf("10 MiB config: %d %+v", code, e)
	}
	if len(svc.gotCreate.Config) != len(cfg) {
		t.Errorf("config arrived with %d bytes", len(svc.gotCreate.Config))
	}
	if code, e, _ := call(t, "GET", hs.URL+"/v1/runs?top=-1", testToken, ""); code != 400 || !strings.Contains(e.Error, "top") {
		t.Errorf("top=-1: %d %+v", code, e)
	}
	if code, e, _ := call(t, "GET", hs.URL+"/v1/workflows/r/other/images", testToken, ""); code != 400 || !strings.Contains(e.Error, "continuouspatchv1") {
		t.Errorf("images of another type: %d %+v", code, e)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New(nil, testToken); err == nil {
		t.Error("nil service accepted")
	}
	if _, err := New(&stub{}, "short"); err == nil {
		t.Error("short token accepted")
	}
}
