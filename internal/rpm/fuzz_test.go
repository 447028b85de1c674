package rpm_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// FuzzReadPackage feeds mutated package files to the reader: it must
// return errors, never panic or loop, and never accept a payload entry
// outside the root.
func FuzzReadPackage(f *testing.F) {
	for _, comp := range []string{"gzip", "zstd", "xz"} {
		p := testPackage(comp)
		p.Unsigned = true // Key generation is slow under the fuzzer's instrumentation.
		b, err := rpmrepo.Build(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b.Data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := rpm.ReadPackage(bytes.NewReader(data), "fuzz.rpm")
		if err != nil {
			return
		}
		_, _ = p.Verify(rpm.VerifyOptions{NoSignature: true})
		a, err := p.Payload(rpm.VerifyOptions{NoSignature: true})
		if err != nil {
			return
		}
		defer a.Close()
		for i := 0; i < 1000; i++ {
			e, err := a.Next()
			if errors.Is(err, io.EOF) || err != nil {
				return
			}
			if e.Path == "" || e.Path[0] == '/' || bytes.HasPrefix([]byte(e.Path), []byte("../")) {
				t.Fatalf("entry path %q", e.Path)
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(a, 1<<20))
		}
	})
}
