package rpm_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/patchloop/patchloop/internal/rpm"
	"github.com/patchloop/patchloop/internal/testutil/rpmrepo"
)

// BenchmarkOpenAndExtract verifies (header digests, signature, payload
// digest) and streams the payload of a zstd package of 64 MiB of files,
// as the patcher does with each downloaded package.
func BenchmarkOpenAndExtract(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	pkg := rpmrepo.Package{Name: "big", Version: "1", Release: "1", Compressor: "zstd"}
	total := 0
	for i := 0; i < 64; i++ {
		content := make([]byte, 1<<20)
		r.Read(content[:len(content)/2]) // Half random, half zeros: compressible like binaries.
		pkg.Files = append(pkg.Files, rpmrepo.File{Path: fmt.Sprintf("/usr/lib64/big/f%02d", i), Content: content})
		total += len(content)
	}
	built, err := rpmrepo.Build(pkg)
	if err != nil {
		b.Fatal(err)
	}
	f := filepath.Join(b.TempDir(), "big.rpm")
	if err := os.WriteFile(f, built.Data, 0o644); err != nil {
		b.Fatal(err)
	}
	kr, err := rpm.ParseKeyring("k", rpmrepo.RepoKey().PublicArmored())
	if err != nil {
		b.Fatal(err)
	}
	opts := rpm.VerifyOptions{Keyring: kr, RequireSignature: true}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, fh, err := rpm.OpenFile(f, opts)
		if err != nil {
			b.Fatal(err)
		}
		a, err := p.Payload(opts)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := a.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, a); err != nil {
				b.Fatal(err)
			}
		}
		_ = a.Close()
		_ = fh.Close()
	}
}
