// Package heap measures the peak heap of a piece of work, for benchmarks
// that report it with b.ReportMetric.
package heap

import (
	"runtime"
	"sync"
	"time"
)

// Sample samples the heap in use (runtime.MemStats.HeapInuse) every
// millisecond until the returned function is called, which returns the
// highest value seen in bytes.
func Sample() (stop func() uint64) {
	var (
		peak uint64
		wg   sync.WaitGroup
	)
	done := make(chan struct{})
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				sample()
				return
			case <-t.C:
				sample()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}
