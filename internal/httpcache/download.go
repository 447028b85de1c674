package httpcache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// Download streams url into the file dest, which appears only complete and
// verified: the body goes to a temporary file next to dest
// (<base>.*.partial), through write, which copies it into f (bounding and
// checking it as the caller's signed index says) and returns the bytes
// written; dest is renamed into place only when write and the file's close
// succeed. A client is required. Errors from write are returned as they
// are; a status other than 200 is a *StatusError; the others name url.
func Download(ctx context.Context, client *http.Client, url, dest string, write func(f *os.File, body io.Reader) (int64, error)) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, &StatusError{URL: url, Code: resp.StatusCode}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), filepath.Base(dest)+".*.partial")
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // No-op once renamed.
	n, err := write(tmp, resp.Body)
	if err != nil {
		_ = tmp.Close()
		return n, err
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("GET %s: %w", url, err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return n, fmt.Errorf("storing %s: %w", url, err)
	}
	return n, nil
}
