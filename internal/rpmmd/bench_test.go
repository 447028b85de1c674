package rpmmd_test

import (
	"bytes"
	"testing"

	"github.com/patchloop/patchloop/internal/rpmmd"
)

// BenchmarkParsePrimary parses a primary.xml of 10,000 packages (Rocky
// 9's BaseOS has ~1,100, AppStream ~5,500, Fedora's everything ~70,000).
func BenchmarkParsePrimary(b *testing.B) {
	const n = 10000
	data := rpmmd.SyntheticPrimary(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		count := 0
		if err := rpmmd.ParsePrimary(bytes.NewReader(data), func(*rpmmd.Package) error { count++; return nil }); err != nil {
			b.Fatal(err)
		}
		if count != n {
			b.Fatalf("%d packages", count)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packages/s")
}
