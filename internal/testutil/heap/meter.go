package heap

import (
	"runtime"
	"testing"
	"time"
)

// Meter adds up the wall time and the peak heap of the measured part of
// a benchmark's iterations, whose setup (new clients, caches, patchers)
// and checks are left out. The zero Meter is ready to use.
type Meter struct {
	total time.Duration
	peak  uint64
	n     int
}

// Measure runs op once, after a garbage collection, timing it and
// sampling the heap while it runs; b's timer runs only during op, and is
// running again when Measure returns.
func (m *Meter) Measure(b *testing.B, op func()) {
	b.StopTimer()
	runtime.GC()
	stop := Sample()
	start := time.Now()
	b.StartTimer()
	op()
	b.StopTimer()
	m.total += time.Since(start)
	m.peak = max(m.peak, stop())
	m.n++
	b.StartTimer()
}

// Report reports the mean seconds per measured op as "s/"+unit ("s/load")
// and the highest heap in use as "peak-heap-MB".
func (m *Meter) Report(b *testing.B, unit string) {
	if m.n > 0 {
		b.ReportMetric(m.total.Seconds()/float64(m.n), "s/"+unit)
	}
	b.ReportMetric(float64(m.peak)/(1<<20), "peak-heap-MB")
}
