package authtest

import (
	"sync"
	"time"
)

// Clock is a fake clock for tests: time moves only when Advance or Set is called. It
// has the Now method that authclient.Clock and WithClock ask for. Safe for concurrent
// use.
//
// Moving it is what a suspended machine does to the wall clock too: a session on it
// must notice that its token expired without any timer having fired.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t (not backwards).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
}
