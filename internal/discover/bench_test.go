package discover_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/patchloop/patchloop/internal/discover"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/testutil/registrytest"
)

// BenchmarkDryRun expands a "*" config over 1,000 repositories × 20 tags on
// a loopback registry, as `workflow create --dry-run` does.
func BenchmarkDryRun(b *testing.B) {
	const repos, tagsPerRepo = 1000, 20
	host := registrytest.Start(b)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var cfg strings.Builder
	cfg.WriteString(`{"version": "v1", "repositories": [`)
	for i := range repos {
		repo := fmt.Sprintf("team%02d/app%04d", i%10, i)
		if i > 0 {
			cfg.WriteString(",")
		}
		fmt.Fprintf(&cfg, `{"repository": %q, "tags": ["*"]}`, repo)
		tags := make([]string, 0, tagsPerRepo)
		for j := range tagsPerRepo / 2 {
			tags = append(tags, fmt.Sprintf("1.%d", j), fmt.Sprintf("1.%d-1", j))
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			registrytest.PushTags(b, host, repo, tags...)
		}()
	}
	wg.Wait()
	cfg.WriteString("]}")
	c := parse(b, cfg.String())
	client := registry.New()

	for _, digests := range []bool{false, true} {
		b.Run(fmt.Sprintf("digests=%v", digests), func(b *testing.B) {
			var targets int
			for b.Loop() {
				res, err := discover.Targets(context.Background(), client, host, c, discover.Options{Digests: digests})
				if err != nil {
					b.Fatal(err)
				}
				targets = len(res.Targets)
			}
			if targets != repos*tagsPerRepo/2 {
				b.Fatalf("targets = %d, want %d", targets, repos*tagsPerRepo/2)
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/dryrun")
			b.ReportMetric(float64(targets), "targets")
		})
	}
}

// BenchmarkOneBigRepo expands "*" over one repository of 40,000 and of
// 200,000 tags on a loopback registry. Linear discovery keeps ns/tag
// roughly flat between the two sizes (when every original was compared with
// every tag it grew fivefold: 155 µs/tag at 40,000 tags, 8 s in all).
func BenchmarkOneBigRepo(b *testing.B) {
	for _, n := range []int{40_000, 200_000} {
		b.Run(fmt.Sprintf("tags=%d", n), func(b *testing.B) {
			big := &bigRepo{repo: "big/app", tags: manyTags(n)}
			host := startBig(b, big)
			cfg := parse(b, `{"version": "v1", "repositories": [{"repository": "big/app", "tags": ["*"]}]}`)
			client := registry.New()
			for b.Loop() {
				res, err := discover.Targets(context.Background(), client, host, cfg, discover.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Targets) != n {
					b.Fatalf("%d targets, want %d", len(res.Targets), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(big.tags)), "ns/tag")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/discovery")
		})
	}
}
