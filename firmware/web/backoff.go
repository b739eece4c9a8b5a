package web

import (
	"sync"
	"time"
)

// MaxBackoff bounds the wait between two login attempts of one clientState.
const MaxBackoff = time.Minute

// forgetAfter is how long after its wait ended a clientState's failures are
// forgotten.
const forgetAfter = 10 * MaxBackoff

// MaxClients bounds how many clientState addresses the backoff remembers.
const MaxClients = 256

// backoff slows failed logins down per clientState address: the first failure
// costs nothing, each further one doubles the wait before the next
// attempt is heard (1 s, 2 s, ... MaxBackoff). Memory is bounded by
// MaxClients. Its clock is injected (Options.Now), so tests step it.
type backoff struct {
	mu      sync.Mutex
	now     func() time.Time
	clients map[string]*clientState
}

type clientState struct {
	failures int
	next     time.Time // no attempt is heard before it
}

func newBackoff(now func() time.Time) *backoff {
	return &backoff{now: now, clients: make(map[string]*clientState)}
}

// wait returns how long addr must still wait before its next attempt is
// heard; 0: now.
func (b *backoff) wait(addr string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.clients[addr]
	if c == nil {
		return 0
	}
	return max(c.next.Sub(b.now()), 0)
}

// failed counts a failed attempt of addr and returns the wait before its
// next one.
func (b *backoff) failed(addr string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	c := b.clients[addr]
	if c == nil {
		if len(b.clients) >= MaxClients {
			b.evict(now)
		}
		c = &clientState{}
		b.clients[addr] = c
	}
	if now.Sub(c.next) > forgetAfter {
		c.failures = 0 // a typo long after the last one starts afresh
	}
	c.failures++
	d := time.Duration(0)
	if c.failures > 1 {
		d = time.Second << min(c.failures-2, 16)
		d = min(d, MaxBackoff)
	}
	c.next = now.Add(d)
	return d
}

// succeeded forgets addr's failures.
func (b *backoff) succeeded(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.clients, addr)
}

// evict forgets the clientState whose wait ended longest ago (or will end
// soonest): the one least slowed down now.
func (b *backoff) evict(now time.Time) {
	var oldest string
	var at time.Time
	for a, c := range b.clients {
		if oldest == "" || c.next.Before(at) {
			oldest, at = a, c.next
		}
	}
	delete(b.clients, oldest)
}

func (b *backoff) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.clients)
}
