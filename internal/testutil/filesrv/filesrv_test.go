package filesrv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestServeCountsAndRevalidates(t *testing.T) {
	files := New(time.Now().Add(-time.Hour))
	files.Publish(map[string][]byte{"a": []byte("one"), "b": []byte("two")})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		files.Serve(w, r, r.URL.Path[1:], true)
	}))
	defer srv.Close()

	get := func(path, etag string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+path, nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") == "" {
			t.Errorf("%s: no ETag", path)
		}
		return resp.StatusCode, resp.Header.Get("ETag") + "|" + string(body)
	}
	code, got := get("a", "")
	if code != http.StatusOK || got[len(got)-3:] != "one" {
		t.Fatalf("a = %d %q", code, got)
	}
	etag := got[:len(got)-4]
	if code, _ := get("a", etag); code != http.StatusNotModified {
		t.Errorf("revalidation = %d, want 304", code)
	}
	if code, _ := get("missing", ""); code != http.StatusNotFound {
		t.Errorf("missing = %d", code)
	}
	if files.Requests("a") != 2 || files.Fetches("a") != 1 || files.Requests("missing") != 1 || files.Fetches("missing") != 0 {
		t.Errorf("counts: a %d/%d, missing %d/%d", files.Requests("a"), files.Fetches("a"), files.Requests("missing"), files.Fetches("missing"))
	}

	before := files.files["b"].modTime
	files.Publish(map[string][]byte{"a": []byte("changed"), "b": []byte("two")})
	if files.files["b"].modTime != before {
		t.Error("an unchanged file got a new Last-Modified time")
	}
	if !files.files["a"].modTime.After(before) {
		t.Error("a changed file kept an old Last-Modified time")
	}
	if code, _ := get("a", etag); code != http.StatusOK {
		t.Errorf("changed file with the old ETag = %d, want 200", code)
	}
	if !files.Tamper("b", func(b []byte) []byte { return append(b, '!') }) || string(files.File("b")) != "two!" {
		t.Errorf("tamper: %q", files.File("b"))
	}
	if files.Tamper("nope", nil) || files.Remove("nope") || !files.Remove("b") || files.File("b") != nil {
		t.Error("tamper/remove of missing files, or remove of b, wrong")
	}
}
