package sign_test

import (
	"context"
	"testing"

	"github.com/patchloop/patchloop/internal/sign"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// BenchmarkCosignSignVerify signs one image (bundle referrer and .sig
// tag) and verifies it, against the embedded registry on loopback.
func BenchmarkCosignSignVerify(b *testing.B) {
	ctx := context.Background()
	host := registrytest.Start(b)
	key := ecKey(b)
	s, _ := sign.NewCosignSigner(key)
	v, _ := sign.NewCosignVerifier(key.Public())
	targets := make([]sign.Target, b.N)
	for i := range targets {
		targets[i] = pushTarget(b, host, "bench")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Sign(ctx, targets[i]); err != nil {
			b.Fatal(err)
		}
		if err := v.Verify(ctx, targets[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/image")
}

// BenchmarkNotationSignVerify is the same with a Notary Project
// signature (JWS).
func BenchmarkNotationSignVerify(b *testing.B) {
	ctx := context.Background()
	host := registrytest.Start(b)
	key, chain := testCA(b, "bench")
	s, err := sign.NewNotationSigner(key, chain)
	if err != nil {
		b.Fatal(err)
	}
	v, _ := sign.NewNotationVerifier(chain[1:])
	targets := make([]sign.Target, b.N)
	for i := range targets {
		targets[i] = pushTarget(b, host, "bench")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Sign(ctx, targets[i]); err != nil {
			b.Fatal(err)
		}
		if err := v.Verify(ctx, targets[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/image")
}
