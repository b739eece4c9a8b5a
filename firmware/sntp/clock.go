package sntp

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// Poll intervals: RFC 4330 section 10 asks a client not to poll more than
// once a minute in steady state; an hour keeps a phone's quartz within a
// fraction of a second, and retries after a failure back off from 5 s.
const (
	Interval   = time.Hour
	RetryFirst = 5 * time.Second
	RetryMax   = 5 * time.Minute
)

// Known is the earliest time Clock takes as set: a board without a
// battery-backed clock starts in 1970, and a phone that never synchronised
// shows no time rather than a wrong one.
var Known = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Clock is the phone's wall clock: the local clock corrected by the last
// answer. Safe from any goroutine.
type Clock struct {
	// Set, when not nil, sets the system clock to the corrected time
	// (SetSystem on the phone as PID 1); the offset is then zero. Nil: the
	// offset is kept and the local clock left alone (the sim board).
	Set func(time.Time) error
	// Logf reports each synchronisation and failure; nil: silent.
	Logf func(format string, args ...any)

	mu     sync.Mutex
	offset time.Duration
	synced bool
	last   Result
}

// Now is the corrected time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return time.Now().Add(off)
}

// Current is Now and whether it can be shown: synchronised, or a local
// clock that was already set (a board with a real-time clock, the host).
func (c *Clock) Current() (time.Time, bool) {
	now := c.Now()
	c.mu.Lock()
	synced := c.synced
	c.mu.Unlock()
	return now, synced || !now.Before(Known)
}

// Last is the last answer taken and whether there was one.
func (c *Clock) Last() (Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.synced
}

// apply takes r, an answer to a query timed by Now: its offset is to
// Now, the local clock already corrected.
func (c *Clock) apply(r Result) {
	c.mu.Lock()
	c.last, c.synced = r, true
	c.offset += r.Offset
	off := c.offset
	set := c.Set
	c.mu.Unlock()
	if set == nil {
		return
	}
	if err := set(time.Now().Add(off)); err != nil {
		c.logf("sntp: setting the system clock: %v; keeping the offset", err)
		return
	}
	c.mu.Lock()
	c.offset = 0
	c.mu.Unlock()
}

func (c *Clock) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Sync asks each of servers in turn until one answers, and takes its
// answer.
func (c *Clock) Sync(ctx context.Context, servers []string) (Result, error) {
	if len(servers) == 0 {
		return Result{}, errors.New("sntp: no server (ntp.server or DHCP option 42)")
	}
	var errs []error
	for _, s := range servers {
		r, err := Query(ctx, s, c.Now)
		if err == nil {
			c.apply(r)
			return r, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return Result{}, errors.Join(errs...)
}

// Run keeps the clock synchronised until ctx ends: Sync at once, then
// every Interval, after a failure again in RetryFirst doubling to
// RetryMax; each wait is spread by up to a tenth. servers is asked again
// before each Sync (a new configuration or lease may change it).
func (c *Clock) Run(ctx context.Context, servers func() []string) {
	retry := RetryFirst
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wait := Interval
		r, err := c.Sync(ctx, servers())
		switch {
		case err == nil:
			c.logf("sntp: %s: offset %v, delay %v, stratum %d", r.Server, r.Offset.Round(time.Microsecond), r.Delay.Round(time.Microsecond), r.Stratum)
			retry = RetryFirst
		case ctx.Err() != nil:
			return
		default:
			c.logf("%v; again in %v", err, retry)
			wait, retry = retry, min(2*retry, RetryMax)
		}
		t.Reset(Spread(wait, rand.Float64()))
	}
}

// Spread is d lengthened by up to a tenth, by r in [0, 1).
func Spread(d time.Duration, r float64) time.Duration {
	return d + time.Duration(float64(d)/10*r)
}
