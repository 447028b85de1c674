package imagefs

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrDigestMismatch is matched (with errors.Is) by every error about bytes
// that do not hash to the digest naming them: a layer blob against the
// manifest's digest, an uncompressed layer against the config's diff_id, or
// the config against the manifest. The error is a *DigestMismatchError.
var ErrDigestMismatch = errors.New("digest mismatch")

// DigestMismatchError says which bytes of which image were not what their
// digest says.
type DigestMismatchError struct {
	// Image is the image's manifest digest.
	Image v1.Hash
	// Layer is the layer at fault; its Digest is zero for the config.
	Layer Layer
	// What names the bytes: "compressed blob" (manifest digest),
	// "uncompressed tar" (config diff_id) or "config" (manifest config digest).
	What string
	// Want is the digest the manifest or config names; Got is the digest of
	// the bytes served.
	Want, Got v1.Hash
}

// Bytes named by the digests.
const (
	whatBlob   = "compressed blob"
	whatTar    = "uncompressed tar"
	whatConfig = "config"
)

// Error implements error.
func (e *DigestMismatchError) Error() string {
	switch e.What {
	case whatConfig:
		return fmt.Sprintf("image %s: config: digest mismatch: the manifest names %s, the config read is %s", e.Image, e.Want, e.Got)
	case whatTar:
		return fmt.Sprintf("image %s: layer %d (%s): diff_id mismatch: the config names %s, the layer's uncompressed tar is %s",
			e.Image, e.Layer.Index, e.Layer.Digest, e.Want, e.Got)
	default:
		return fmt.Sprintf("image %s: layer %d: digest mismatch: the manifest names %s, the blob read is %s",
			e.Image, e.Layer.Index, e.Want, e.Got)
	}
}

// Is makes errors.Is(err, ErrDigestMismatch) true.
func (e *DigestMismatchError) Is(target error) bool { return target == ErrDigestMismatch }

// hashingReader hashes and counts what is read through it. It is safe for
// a decompressor reading ahead in another goroutine. The hash runs in a
// goroutine of its own, fed copies of what is read, so that hashing a
// layer's blob and its tar overlaps decompression on another core instead
// of adding to it.
type hashingReader struct {
	mu  sync.Mutex
	r   io.Reader
	h   *asyncHash
	n   int64
	err error // the first error other than io.EOF
	eof bool
}

func newHashingReader(r io.Reader, algorithm string) (*hashingReader, error) {
	h, err := v1.Hasher(algorithm)
	if err != nil {
		return nil, err
	}
	return &hashingReader{r: r, h: newAsyncHash(h)}, nil
}

// Read implements io.Reader.
func (hr *hashingReader) Read(p []byte) (int, error) {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	n, err := hr.r.Read(p)
	hr.h.write(p[:n])
	hr.n += int64(n)
	switch {
	case errors.Is(err, io.EOF):
		hr.eof = true
	case err != nil && hr.err == nil:
		hr.err = err
	}
	return n, err
}

// state returns how many bytes were read, the first error other than
// io.EOF, and whether the end was reached.
func (hr *hashingReader) state() (n int64, err error, eof bool) {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	return hr.n, hr.err, hr.eof
}

// sum returns the digest of what was read. Nothing read after it counts.
func (hr *hashingReader) sum(algorithm string) v1.Hash {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	return v1.Hash{Algorithm: algorithm, Hex: hex.EncodeToString(hr.h.sum())}
}

// stop ends the hashing goroutine of a reader whose sum is not wanted.
func (hr *hashingReader) stop() {
	if hr == nil {
		return
	}
	hr.mu.Lock()
	defer hr.mu.Unlock()
	hr.h.sum()
}

// asyncHash feeds a hash.Hash from a goroutine. write copies its input
// into pooled chunks and returns once the goroutine has room for them; sum
// waits for every write.
type asyncHash struct {
	ch     chan *[]byte
	done   chan struct{}
	h      hash.Hash
	result []byte
	closed bool
}

// hashChunk is the size of the pooled copies handed to the goroutine.
const hashChunk = 64 << 10

var hashChunks = sync.Pool{New: func() any { b := make([]byte, hashChunk); return &b }}

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{ch: make(chan *[]byte, 16), done: make(chan struct{}), h: h}
	go func() {
		defer close(a.done)
		for bp := range a.ch {
			a.h.Write(*bp)
			*bp = (*bp)[:cap(*bp)]
			hashChunks.Put(bp)
		}
	}()
	return a
}

// write hands a copy of p to the goroutine; after sum it does nothing.
func (a *asyncHash) write(p []byte) {
	for len(p) > 0 && !a.closed {
		bp := hashChunks.Get().(*[]byte)
		n := copy(*bp, p)
		*bp = (*bp)[:n]
		a.ch <- bp
		p = p[n:]
	}
}

// sum waits for the goroutine and returns the digest; later calls return
// the same.
func (a *asyncHash) sum() []byte {
	if !a.closed {
		a.closed = true
		close(a.ch)
		<-a.done
		a.result = a.h.Sum(nil)
	}
	return a.result
}

// layerStream is the uncompressed tar of one layer, decompressed from the
// layer's compressed blob. Both streams are hashed as they are read; check
// reads both to the end and compares them with the digests that name them.
type layerStream struct {
	image v1.Hash
	ref   Layer
	size  int64          // of the blob, from the manifest
	blob  *hashingReader // Compressed(), as served
	tar   *hashingReader // the uncompressed tar
	rc    io.ReadCloser  // the decompressor
	// keep, when set, receives a copy of the uncompressed tar; keepErr is
	// its first write error.
	keep    io.Writer
	keepErr error
}

// blobSource gives go-containerregistry's decompression (gzip, zstd or
// none, told apart by magic bytes) the layer's blob through a hashing reader.
type blobSource struct {
	l    v1.Layer
	desc layerDesc
	s    *layerStream
}

func (b *blobSource) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *blobSource) Size() (int64, error)                { return b.desc.size, nil }
func (b *blobSource) MediaType() (types.MediaType, error) { return b.desc.mediaType, nil }

// Compressed opens the layer's blob, hashing it.
func (b *blobSource) Compressed() (io.ReadCloser, error) {
	rc, err := b.l.Compressed()
	if err != nil {
		return nil, err
	}
	hr, err := newHashingReader(rc, b.desc.Digest.Algorithm)
	if err != nil {
		_ = rc.Close()
		return nil, err
	}
	b.s.blob = hr
	return struct {
		io.Reader
		io.Closer
	}{hr, rc}, nil
}

// openLayer opens the uncompressed tar of layer l of image, to be checked
// against desc's digest and diff_id.
func openLayer(image v1.Hash, l v1.Layer, desc layerDesc) (*layerStream, error) {
	s := &layerStream{image: image, ref: desc.Layer, size: desc.size}
	ext, err := partial.CompressedToLayer(&blobSource{l: l, desc: desc, s: s})
	if err != nil {
		return nil, err
	}
	rc, err := ext.Uncompressed()
	if err != nil {
		err = s.explain(err)
		s.blob.stop()
		return nil, err
	}
	s.rc = rc
	if s.tar, err = newHashingReader(rc, desc.DiffID.Algorithm); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Read reads the uncompressed tar.
func (s *layerStream) Read(p []byte) (int, error) {
	n, err := s.tar.Read(p)
	if n > 0 && s.keep != nil && s.keepErr == nil {
		_, s.keepErr = s.keep.Write(p[:n])
	}
	return n, err
}

// Close closes both streams.
func (s *layerStream) Close() error {
	s.blob.stop()
	s.tar.stop()
	return s.rc.Close()
}

// check reads what is left of both streams (the tar reader stops at the
// end-of-archive marker; what follows still counts) and compares them with
// the layer's digest and diff_id. It returns the bytes of the uncompressed
// tar read while draining.
func (s *layerStream) check() (int64, error) {
	n, err := io.Copy(io.Discard, s)
	if err != nil {
		return n, s.explain(err)
	}
	if _, err := io.Copy(io.Discard, s.blob); err != nil {
		return n, s.explain(err)
	}
	if got := s.blob.sum(s.ref.Digest.Algorithm); got != s.ref.Digest {
		return n, s.mismatch(whatBlob, s.ref.Digest, got)
	}
	if got := s.tar.sum(s.ref.DiffID.Algorithm); got != s.ref.DiffID {
		return n, s.mismatch(whatTar, s.ref.DiffID, got)
	}
	return n, nil
}

// explain turns a read error into a digest mismatch when the whole blob
// was read and does not hash to the layer's digest: the registry client may
// check the digest itself and fail the last read (go-containerregistry's
// remote layers do), and a swapped blob usually breaks decompression or the
// tar format before its end. A blob that could not be read whole (a
// network error, a short blob) keeps its error.
func (s *layerStream) explain(err error) error {
	if s.blob == nil {
		return err
	}
	if _, rerr, eof := s.blob.state(); rerr == nil && !eof {
		// Stopped early: read the rest of the blob to tell a swapped blob
		// from a broken one.
		_, _ = io.Copy(io.Discard, s.blob)
	}
	if n, _, eof := s.blob.state(); eof || n >= s.size {
		if got := s.blob.sum(s.ref.Digest.Algorithm); got != s.ref.Digest {
			return s.mismatch(whatBlob, s.ref.Digest, got)
		}
	}
	return err
}

func (s *layerStream) mismatch(what string, want, got v1.Hash) error {
	return &DigestMismatchError{Image: s.image, Layer: s.ref, What: what, Want: want, Got: got}
}
