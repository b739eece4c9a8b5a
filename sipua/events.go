package sipua

import (
	"sync"
	"time"
)

// Events leave the UA through a queue that never blocks it: the loop
// appends an event to a fixed ring (queue), and a forwarder goroutine
// hands the ring's events to the channel the phone reads (Events). So the
// phone may call the UA (which waits for the loop) while the UA has
// events for it, and the loop never waits on the phone. The ring holds
// eventRing events; should the phone fall that far behind, an event is
// dropped, counted (DroppedEvents) and logged, never silently.
const (
	eventRing  = 256
	eventFlush = time.Second // how long Close waits for the phone to take what is queued
)

type eventQueue struct {
	mu      sync.Mutex
	ring    [eventRing]Event
	head, n int
	dropped uint64
	wake    chan struct{} // cap 1: the forwarder has work
}

// push queues e; it reports false (and counts it) when the ring is full.
func (q *eventQueue) push(e Event) bool {
	q.mu.Lock()
	if q.n == len(q.ring) {
		q.dropped++
		q.mu.Unlock()
		return false
	}
	q.ring[(q.head+q.n)%len(q.ring)] = e
	q.n++
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

func (q *eventQueue) pop() (Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return Event{}, false
	}
	e := q.ring[q.head]
	q.ring[q.head] = Event{} // drop the references it holds
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return e, true
}

// forward runs until the loop has stopped (ua.done), then hands over what
// is still queued (for at most eventFlush) and closes the channel.
func (ua *UA) forward() {
	defer close(ua.events)
	q := &ua.queue
	for {
		select {
		case <-q.wake:
		case <-ua.done:
			t := time.NewTimer(eventFlush)
			defer t.Stop()
			for e, ok := q.pop(); ok; e, ok = q.pop() {
				select {
				case ua.events <- e:
				case <-t.C:
					ua.logf("sipua: closing: the phone did not take %v and %d more events", e.Kind, q.len())
					return
				}
			}
			return
		}
	drain:
		for e, ok := q.pop(); ok; e, ok = q.pop() {
			select {
			case ua.events <- e:
			case <-ua.done:
				q.unpop(e) // back at the head for the flush above, on the next turn
				break drain
			}
		}
	}
}

// unpop puts e back at the head (the loop stopped while it was on its way).
func (q *eventQueue) unpop(e Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.head = (q.head - 1 + len(q.ring)) % len(q.ring)
	q.ring[q.head] = e
	q.n++
}

func (q *eventQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// DroppedEvents is how many events the phone was too far behind to get.
func (ua *UA) DroppedEvents() uint64 {
	ua.queue.mu.Lock()
	defer ua.queue.mu.Unlock()
	return ua.queue.dropped
}
