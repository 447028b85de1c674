package workflow

import (
	"testing"
	"time"

	"github.com/patchloop/patchloop/internal/store/storetest"
)

// BenchmarkCycle runs cycles of a workflow over 200 images on loopback:
// 196 without vulnerabilities (their patch is skipped) and 4 patched in the
// first cycle (scanned and skipped in the later ones).
func BenchmarkCycle(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkCycle(b, "") })
	b.Run("postgres", func(b *testing.B) { benchmarkCycle(b, storetest.Postgres(b)) })
}

func benchmarkCycle(b *testing.B, database string) {
	const images = 200
	f := newFixture(b)
	if database != "" {
		f.database = database
	}
	f.push(b, f.debian(b, "1.0-1"), "app", "1.0", "2.0", "3.0", "4.0")
	var clean []string
	for i := range images - 4 {
		clean = append(clean, "v"+itoa(i))
	}
	f.push(b, f.debian(b, "1.0-2"), "clean", clean...)
	e := f.start(b, func(o *Options) { o.ScanWorkers = DefaultScanWorkers })
	f.create(b, e, configOf("incremental", "app", "clean"), false)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		f.runCycle(b, e, day)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	scans := runsOf(b, e, f.host, TaskScan)
	if len(scans) != images*b.N {
		b.Fatalf("%d scans for %d cycles of %d images", len(scans), b.N, images)
	}
	b.ReportMetric(float64(images*b.N)/elapsed.Seconds(), "images/s")
}
