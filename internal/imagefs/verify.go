package imagefs

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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

// layerStream is the uncompressed tar of one layer, decompressed from the
// layer's compressed blob. Both streams are checked as they are read; check
// reads both to the end and compares them with the digests that name them.
//
// The blob is hashed here unless the layer's own stream checks it (see
// clientChecked): then a blob that does not match fails its last read,
// and the blob is read again, hashed here, only to name the digest it has.
type layerStream struct {
	image   v1.Hash
	ref     Layer
	size    int64    // of the blob, from the manifest
	src     v1.Layer // the layer, to read the blob again for an error
	checked bool     // the blob stream checks its own digest
	rc      io.ReadCloser
	blob    *hashingReader // Compressed(), as served
	ahead   *readahead     // reads blob ahead of the decompressor
	dec     io.ReadCloser  // the decompressor
	tar     *hashingReader // the uncompressed tar
	// keep, when set, receives a copy of the uncompressed tar; keepErr is
	// its first write error.
	keep    io.Writer
	keepErr error
}

// clientChecked reports whether the compressed stream of l checks the blob
// against digest itself, failing the read that ends it when they differ.
// Layers of images read from a registry by go-containerregistry's remote
// package (remote.Image, remote.Layer) are *remote.MountableLayer, and
// every blob those fetch goes through the package's verifying reader.
func clientChecked(l v1.Layer, digest v1.Hash) bool {
	ml, ok := l.(*remote.MountableLayer)
	if !ok || ml.Layer == nil {
		return false
	}
	d, err := ml.Digest()
	return err == nil && d == digest
}

// openLayer opens the uncompressed tar of layer l of image, to be checked
// against desc's digest and diff_id.
func openLayer(image v1.Hash, l v1.Layer, desc layerDesc) (*layerStream, error) {
	s := &layerStream{image: image, ref: desc.Layer, size: desc.size, src: l, checked: clientChecked(l, desc.Digest)}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	s.rc = rc
	if s.checked {
		s.blob = newCountingReader(rc)
	} else if s.blob, err = newHashingReader(rc, desc.Digest.Algorithm); err != nil {
		_ = rc.Close()
		return nil, err
	}
	// The blob is received, and hashed or checked, in the read-ahead
	// goroutine; the tar is inflated and walked in the caller's, and
	// hashed in a third.
	s.ahead = newReadahead(s.blob)
	if s.dec, err = decompressor(s.ahead); err != nil {
		err = s.explain(err)
		_ = s.Close()
		return nil, err
	}
	if s.tar, err = newAsyncHashingReader(s.dec, desc.DiffID.Algorithm); err != nil {
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

// Close closes both streams and waits for their goroutines.
func (s *layerStream) Close() error {
	err := s.rc.Close() // unblocks the read ahead
	s.ahead.Close()
	if s.dec != nil {
		_ = s.dec.Close()
	}
	s.tar.stop()
	return err
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
	if _, err := io.Copy(io.Discard, s.ahead); err != nil {
		return n, s.explain(err)
	}
	if s.checked {
		// The client's stream ended cleanly, which it only does once the
		// blob matched the digest.
		if _, rerr, eof := s.blob.state(); rerr != nil || !eof {
			return n, s.explain(fmt.Errorf("blob %s: stream ended without reaching its end", s.ref.Digest))
		}
	} else if got := s.blob.sum(s.ref.Digest.Algorithm); got != s.ref.Digest {
		return n, s.mismatch(whatBlob, s.ref.Digest, got)
	}
	if got := s.tar.sum(s.ref.DiffID.Algorithm); got != s.ref.DiffID {
		return n, s.mismatch(whatTar, s.ref.DiffID, got)
	}
	return n, nil
}

// explain turns a read error into a digest mismatch when the whole blob
// was read and does not hash to the layer's digest: the registry client
// checks the digest itself and fails the last read, and a swapped blob
// usually breaks decompression or the tar format before its end. A blob
// that could not be read whole (a network error, a short blob) keeps its
// error.
func (s *layerStream) explain(err error) error {
	if s.ahead == nil {
		return err
	}
	// Read the rest of the blob to tell a swapped blob from a broken one.
	_, _ = io.Copy(io.Discard, s.ahead)
	n, rerr, eof := s.blob.state()
	if s.checked {
		if (eof && rerr == nil) || n < s.size {
			// Matched its digest, or could not be read whole.
			return err
		}
		// Read whole, the client's check failed: name the digest served.
		if got, ok := s.rehash(); ok && got != s.ref.Digest {
			return s.mismatch(whatBlob, s.ref.Digest, got)
		}
		return err
	}
	if eof || n >= s.size {
		if got := s.blob.sum(s.ref.Digest.Algorithm); got != s.ref.Digest {
			return s.mismatch(whatBlob, s.ref.Digest, got)
		}
	}
	return err
}

// rehash reads the blob of a client-checked layer again and returns the
// digest of its first size bytes, which the client hands over before
// failing its check; ok is false when they could not be read.
func (s *layerStream) rehash() (v1.Hash, bool) {
	h, err := v1.Hasher(s.ref.Digest.Algorithm)
	if err != nil {
		return v1.Hash{}, false
	}
	rc, err := s.src.Compressed()
	if err != nil {
		return v1.Hash{}, false
	}
	defer func() { _ = rc.Close() }()
	// The client's check fails the read that hands over the last bytes.
	if n, _ := io.Copy(h, io.LimitReader(rc, s.size)); n != s.size {
		return v1.Hash{}, false
	}
	return v1.Hash{Algorithm: s.ref.Digest.Algorithm, Hex: hex.EncodeToString(h.Sum(nil))}, true
}

func (s *layerStream) mismatch(what string, want, got v1.Hash) error {
	return &DigestMismatchError{Image: s.image, Layer: s.ref, What: what, Want: want, Got: got}
}
