package scan_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/imagetest"
)

// BenchmarkScanOneLayer scans a one-layer image of about 200 MB
// uncompressed (gzip at the default level, about 80 MB) whose content
// resembles a Debian root filesystem: ELF-like executables and libraries,
// text (documentation, scripts, configuration) and already compressed
// files (changelogs, man pages). The embedded registry serves it from disk
// on loopback.
//
// Each iteration times, back to back, a cold scan (no inventory cache:
// the layer is fetched, inflated, walked and both its digests checked) and
// the floor it is compared with: fetching the same blob from the same
// registry with a plain HTTP GET and inflating it with klauspost/compress
// to io.Discard, no hashing. It reports scan-s, inflate-s and their ratio
// (target ≤ 1.25), then warm-s: a rescan answered by the inventory cache.
func BenchmarkScanOneLayer(b *testing.B) {
	dir := b.TempDir()
	layer, raw := rootfsLayer(b, dir, 200<<20)
	host := diskRegistry(b, dir)
	ref := host + "/bench/rootfs:1"
	pushRef(b, ref, imagetest.Image(b, layer))
	digest, err := layer.Digest()
	if err != nil {
		b.Fatal(err)
	}
	blobURL := "http://" + host + "/v2/bench/rootfs/blobs/" + digest.String()
	db := openDB(b, database())
	client := registry.New()
	runtime.GC()
	b.ResetTimer()

	var scanT, inflateT, scanCPU, inflateCPU time.Duration
	for range b.N {
		start, cpu := time.Now(), cpuTime()
		n, err := inflate(blobURL)
		inflateT, inflateCPU = inflateT+time.Since(start), inflateCPU+cpuTime()-cpu
		if err != nil {
			b.Fatal(err)
		}
		if n != raw {
			b.Fatalf("inflated %d bytes, want %d", n, raw)
		}
		start, cpu = time.Now(), cpuTime()
		stop := profile(b)
		rep, err := benchScanOnce(client, ref, db, nil)
		stop()
		scanT, scanCPU = scanT+time.Since(start), scanCPU+cpuTime()-cpu
		if err != nil {
			b.Fatal(err)
		}
		if v := len(rep.Vulnerabilities()); v != 2 || rep.Stats.LayersRead != 1 {
			b.Fatalf("%d findings from %d layers read, want 2 from 1", v, rep.Stats.LayersRead)
		}
	}
	b.StopTimer()
	scanS, inflateS := scanT.Seconds()/float64(b.N), inflateT.Seconds()/float64(b.N)
	b.ReportMetric(scanS, "scan-s")
	b.ReportMetric(inflateS, "inflate-s")
	b.ReportMetric(scanS/inflateS, "ratio")
	b.ReportMetric(scanCPU.Seconds()/float64(b.N), "scan-cpu-s")
	b.ReportMetric(inflateCPU.Seconds()/float64(b.N), "inflate-cpu-s")
	if blob, err := layer.Size(); err == nil {
		b.ReportMetric(float64(blob)/(1<<20), "blob-MB")
	}
	b.ReportMetric(float64(raw)/(1<<20), "tar-MB")

	cache, err := ospkg.NewDirCache(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := benchScanOnce(client, ref, db, cache); err != nil { // fills the cache
		b.Fatal(err)
	}
	var warm time.Duration
	for range b.N {
		start := time.Now()
		rep, err := benchScanOnce(client, ref, db, cache)
		warm += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Stats.FromCache || len(rep.Vulnerabilities()) != 2 {
			b.Fatalf("warm rescan: from cache %v, %d findings", rep.Stats.FromCache, len(rep.Vulnerabilities()))
		}
	}
	b.ReportMetric(warm.Seconds()/float64(b.N), "warm-s")
	b.ReportMetric(0, "ns/op")
}

// inflate fetches the blob at url and inflates it to io.Discard with
// klauspost/compress, returning the uncompressed size.
func inflate(url string) (int64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(resp.Body, 1<<20))
	if err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, zr)
}

// rootfsLayer writes a gzip layer of about size uncompressed bytes that
// resembles a Debian root filesystem (see BenchmarkScanOneLayer), the same
// every run, and returns it with its uncompressed size.
func rootfsLayer(b *testing.B, dir string, size int64) (v1.Layer, int64) {
	b.Helper()
	p := filepath.Join(dir, "rootfs.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := gzip.NewWriter(bw)
	cw := &countingWriter{w: zw}
	tw := tar.NewWriter(cw)
	g := newRootGen()
	write := func(name string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: now}); err != nil {
			b.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			b.Fatal(err)
		}
	}
	mkdir := func(name string) {
		if err := tw.WriteHeader(&tar.Header{Name: name + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: now}); err != nil {
			b.Fatal(err)
		}
	}
	write("etc/os-release", []byte(debianOSRelease))
	write("etc/debian_version", []byte("12.5\n"))
	for pkg := 0; cw.n < size; pkg++ {
		name := fmt.Sprintf("pkg%04d", pkg)
		mkdir("usr/share/doc/" + name)
		write("usr/share/doc/"+name+"/changelog.Debian.gz", g.random(2<<10+g.r.IntN(30<<10)))
		write("usr/share/doc/"+name+"/copyright", g.text(1<<10+g.r.IntN(12<<10)))
		write("usr/share/man/man1/"+name+".1.gz", g.random(1<<10+g.r.IntN(8<<10)))
		write("usr/bin/"+name, g.binary(16<<10+g.r.IntN(200<<10)))
		if pkg%3 == 0 {
			write("usr/lib/x86_64-linux-gnu/lib"+name+".so.1", g.binary(64<<10+g.r.IntN(1<<20)))
		}
		mkdir("usr/share/" + name)
		for i := range 1 + g.r.IntN(6) {
			write(fmt.Sprintf("usr/share/%s/module%d.py", name, i), g.text(2<<10+g.r.IntN(40<<10)))
		}
	}
	write("var/lib/dpkg/status", []byte("Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u3\n\n"+
		"Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n"))
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	l, err := tarball.LayerFromFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return l, cw.n
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// rootGen makes deterministic file contents that compress about as real
// ones do: text from a Zipf-distributed vocabulary, machine code from a
// Zipf-distributed set of instruction byte strings with random operands,
// string tables and zero padding, and random bytes for files that are
// already compressed.
type rootGen struct {
	r     *rand.Rand
	words [][]byte
	wordZ []uint16 // word indexes drawn from a Zipf distribution
	insns [][]byte
	insnZ []uint16
}

// zipfTable draws 64 Ki indexes below n from a Zipf distribution: picking
// from it is much faster than drawing each time.
func zipfTable(r *rand.Rand, s, v float64, n int) []uint16 {
	z := rand.NewZipf(r, s, v, uint64(n-1))
	t := make([]uint16, 1<<16)
	for i := range t {
		t[i] = uint16(z.Uint64())
	}
	return t
}

func (g *rootGen) word() []byte { return g.words[g.wordZ[g.r.Uint32()&0xffff]] }
func (g *rootGen) insn() []byte { return g.insns[g.insnZ[g.r.Uint32()&0xffff]] }

func newRootGen() *rootGen {
	r := rand.New(rand.NewChaCha8([32]byte{'r', 'o', 'o', 't', 'f', 's'}))
	g := &rootGen{r: r}
	const letters = "etaoinshrdlcumwfgypbvkjxqz_"
	for range 4000 {
		w := make([]byte, 2+r.IntN(9))
		for i := range w {
			w[i] = letters[min(r.IntN(len(letters)), r.IntN(len(letters)))]
		}
		g.words = append(g.words, w)
	}
	for range 2000 {
		in := make([]byte, 1+r.IntN(7))
		for i := range in {
			in[i] = byte(r.Uint32())
		}
		g.insns = append(g.insns, in)
	}
	g.wordZ = zipfTable(r, 1.1, 2, len(g.words))
	g.insnZ = zipfTable(r, 1.05, 4, len(g.insns))
	return g
}

// text returns about n bytes of lines of words.
func (g *rootGen) text(n int) []byte {
	var buf bytes.Buffer
	buf.Grow(n + 64)
	col := 0
	for buf.Len() < n {
		if col == 0 && g.r.IntN(4) == 0 {
			buf.WriteString("    ")
		}
		w := g.word()
		buf.Write(w)
		col += len(w) + 1
		switch {
		case col > 60+g.r.IntN(20):
			buf.WriteByte('\n')
			col = 0
		case g.r.IntN(12) == 0:
			buf.WriteString(", ")
		default:
			buf.WriteByte(' ')
		}
	}
	return buf.Bytes()[:n]
}

// binary returns n bytes shaped like an ELF executable: a header, code,
// a string table and zero padding.
func (g *rootGen) binary(n int) []byte {
	out := make([]byte, 0, n+64)
	out = append(out, "\x7fELF\x02\x01\x01\x00"...)
	out = append(out, make([]byte, 56)...)
	code := n * 7 / 10
	for len(out) < code {
		out = append(out, g.insn()...)
		if g.r.IntN(5) == 0 { // an operand: an address or constant
			v := g.r.Uint32()
			if g.r.IntN(2) == 0 {
				v &= 0xffff
			}
			out = append(out, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		}
	}
	for len(out) < n*9/10 { // .rodata and .dynstr
		out = append(out, g.word()...)
		out = append(out, 0)
	}
	out = append(out, make([]byte, max(0, n-len(out)))...)
	return out[:n]
}

// random returns n random bytes: a file that is already compressed.
func (g *rootGen) random(n int) []byte {
	out := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := g.r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			out[i+j] = byte(v >> (8 * j))
		}
	}
	return out
}
