package workflow

import (
	"sync"
	"time"
)

// Clock is the scheduler's time source. Tests use a ManualClock to move
// time and wake the scheduler at once.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Wake returns a channel that receives when the clock jumps, so the
	// scheduler looks for due cycles without waiting for its next tick; a
	// clock that never jumps returns nil.
	Wake() <-chan struct{}
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Wake returns nil: the real clock never jumps.
func (SystemClock) Wake() <-chan struct{} { return nil }

// ManualClock is a clock that moves only when told to. It is safe for
// concurrent use.
type ManualClock struct {
	mu   sync.Mutex
	now  time.Time
	wake chan struct{}
}

// NewManualClock returns a clock standing at t.
func NewManualClock(t time.Time) *ManualClock {
	return &ManualClock{now: t, wake: make(chan struct{}, 1)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Wake returns the channel Advance and Set signal.
func (c *ManualClock) Wake() <-chan struct{} { return c.wake }

// Advance moves the clock forward by d and wakes the scheduler.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	c.signal()
}

// Set moves the clock to t and wakes the scheduler.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
	c.signal()
}

func (c *ManualClock) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}
