package httpcache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestDownloadStoresOnlyWhatWriteAccepts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pkg" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "package body")
	}))
	defer srv.Close()
	dir := t.TempDir()
	dest := filepath.Join(dir, "pkg")
	copyAll := func(f *os.File, body io.Reader) (int64, error) { return io.Copy(f, body) }

	n, err := Download(context.Background(), srv.Client(), srv.URL+"/pkg", dest, copyAll)
	if err != nil || n != 12 {
		t.Fatalf("Download = %d, %v", n, err)
	}
	if b, err := os.ReadFile(dest); err != nil || string(b) != "package body" {
		t.Fatalf("dest holds %q, %v", b, err)
	}

	bad := errors.New("checksum mismatch")
	other := filepath.Join(dir, "other")
	_, err = Download(context.Background(), srv.Client(), srv.URL+"/pkg", other, func(f *os.File, body io.Reader) (int64, error) {
		n, _ := io.Copy(f, body)
		return n, bad
	})
	if !errors.Is(err, bad) {
		t.Fatalf("err = %v, want the write error", err)
	}
	var se *StatusError
	if _, err := Download(context.Background(), srv.Client(), srv.URL+"/missing", other, copyAll); !errors.As(err, &se) || !IsNotFound(err) {
		t.Fatalf("err = %v, want a 404 StatusError", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "pkg" {
		t.Fatalf("directory holds %v, want only pkg (no partial or rejected file)", entries)
	}
}
