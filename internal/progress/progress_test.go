package progress

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// chunks reads r in pieces of n bytes, so each read draws.
type chunks struct {
	r io.Reader
	n int
}

func (c chunks) Read(b []byte) (int, error) { return c.r.Read(b[:min(len(b), c.n)]) }

func TestReaderOnTerminal(t *testing.T) {
	var out bytes.Buffer
	p := New(&out, true)
	data := bytes.Repeat([]byte("x"), 3*1024)
	r := p.Reader(chunks{bytes.NewReader(data), 1024}, "downloading db.tar.gz", int64(len(data)))
	var got []byte
	buf := make([]byte, 1024)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes", len(got))
	}
	r.Close() // after EOF: no second end of line
	want := "\rdownloading db.tar.gz 1.0 KiB / 3.0 KiB (33%)" +
		"\rdownloading db.tar.gz 2.0 KiB / 3.0 KiB (66%)" +
		"\rdownloading db.tar.gz 3.0 KiB / 3.0 KiB (100%)\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestReaderUnknownSizeShorterLinePadded(t *testing.T) {
	var out bytes.Buffer
	p := New(&out, true)
	p.draw("a long line")
	p.end("short")
	if diff := cmp.Diff("\ra long line\rshort      \n", out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	out.Reset()
	r := p.Reader(strings.NewReader("abc"), "reading", -1)
	io.ReadAll(r)
	if diff := cmp.Diff("\rreading 3 B\n", out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNotTerminalWritesNothing(t *testing.T) {
	var out bytes.Buffer
	p := New(&out, false)
	if p.Enabled() {
		t.Fatal("enabled without a terminal")
	}
	got, err := io.ReadAll(p.Reader(strings.NewReader("data"), "downloading x", 4))
	if err != nil || string(got) != "data" || out.Len() != 0 {
		t.Errorf("read %q, %v; wrote %q", got, err, out.String())
	}
	if rt := p.Transport(http.DefaultTransport); rt != http.DefaultTransport {
		t.Errorf("Transport wrapped without a terminal")
	}
}

func TestTransport(t *testing.T) {
	blob := bytes.Repeat([]byte("b"), 100<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/small"):
			w.Write([]byte("tiny"))
		case r.Method == http.MethodGet:
			w.Header().Set("Content-Length", strconv.Itoa(len(blob)))
			w.Write(blob)
		default:
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer srv.Close()
	var out bytes.Buffer
	c := &http.Client{Transport: New(&out, true).Transport(nil)}

	get := func(p string) {
		resp, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	get("/v2/app/blobs/sha256:0123456789abcdef0123")
	if !strings.HasSuffix(out.String(), "\rdownloading sha256:0123456789ab 100.0 KiB / 100.0 KiB (100%)\n") {
		t.Errorf("download: %q", out.String())
	}
	out.Reset()
	get("/small")
	if out.Len() != 0 {
		t.Errorf("a small body drew %q", out.String())
	}
	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/v2/app/blobs/uploads/u1", io.NopCloser(bytes.NewReader(blob)))
	req.ContentLength = -1
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasSuffix(out.String(), "\rpushing u1 100.0 KiB\n") {
		t.Errorf("push: %q", out.String())
	}
}
