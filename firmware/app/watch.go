package app

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/hal"
)

// steadyAfter is how long a call (or an idle spell) runs before its steady
// state is counted: the first second sets up the call's media and sends
// its first answers; after it nothing may allocate (DESIGN.md).
const steadyAfter = time.Second

// watcher is the panel's observer that also logs, once, how long the phone
// took from process start to its first registration, and for each call, and
// each idle spell, the heap allocations and GC cycles it cost: in all, and
// in its steady state, after its first second (DESIGN.md: the
// fixed-allocation core is watched at run time).
type watcher struct {
	hal.Observer
	start time.Time
	step  func(string, ...any)
	once  sync.Once
	// registered is closed at the first registration (confirm): what
	// confirms a newly installed firmware.
	registered  chan struct{}
	confirmOnce sync.Once

	dw hal.DisplayWriter // Observer as one, or nil

	// heap: the heap counters are watched; false where they are not this
	// phone's alone (Options.SharedProcess).
	heap bool

	callID int    // the call being watched, 0: none
	call   window // from its answer to its end
	idle   window // from the phone going idle to it leaving idle

	// The settling after start (settle.go), sample's alone: armed
	// settleAfter the first registration, due from then, done at the
	// first moment after it that the phone is idle.
	settleAt  *time.Timer
	settleDue bool
	settled   bool
	settle    func(step func(string, ...any)) // settle; a test's own
}

func newWatcher(ctx context.Context, o hal.Observer, start time.Time, step func(string, ...any), heap bool) *watcher {
	w := &watcher{Observer: o, start: start, step: step, heap: heap, registered: make(chan struct{}), settle: settle}
	w.dw, _ = o.(hal.DisplayWriter)
	if heap {
		// The call's ticker and the idle spell's timer, made once and
		// stopped until a window opens (begin resets them).
		w.call.tick = time.NewTicker(time.Second)
		w.call.tick.Stop()
		w.idle.once = time.NewTimer(steadyAfter)
		w.idle.once.Stop()
		w.settleAt = time.NewTimer(settleAfter)
		w.settleAt.Stop()
		go w.sample(ctx)
	}
	return w
}

// sample reads the counters for the open windows (one goroutine, and one
// ticker and one timer made once: a sample allocates nothing). A call is
// read once a second while it lasts: the first read a second
// (steadyAfter) into it starts its steady part, the last before its end
// ends it, so the event that ends a call (the far end's BYE, handled by
// the user agent before the phone hears of it) is not counted as steady.
// A call already wakes the phone 50 times a second (its audio), so the
// ticker costs it nothing that matters.
//
// An idle spell is read only at its start, once steadyAfter into it (its
// timer, reset by begin) and at its end: nothing wakes an idle phone for
// the watcher, and ReadMemStats, which stops the world, is in no periodic
// path of it. Its steady part therefore runs to the end and counts the
// event that ended the spell up to the phone hearing of it: for the
// phone's own input (the handset lifted, a key) that is the phone's
// handling of it, held to 0 like the rest; for a call coming in it is
// the user agent taking the INVITE in, which the log line tells by the
// state the phone left idle for ("idle: 50.4 s to ringing, ..."). Reading
// once a second to leave that out would wake every idle phone each
// second for the sake of one figure.
func (w *watcher) sample(ctx context.Context) {
	registered := w.registered
	for {
		select {
		case <-ctx.Done():
			return
		case <-registered:
			registered = nil
			w.settleAt.Reset(settleAfter)
		case <-w.settleAt.C:
			w.settleDue = true
			w.settleIfIdle()
		case <-w.call.tick.C:
			w.call.read()
		case <-w.idle.once.C:
			w.settleIfIdle()
			w.idle.read()
		}
	}
}

// settleIfIdle settles the phone (settle.go) once it is due and the phone
// is idle: inside an idle spell, whose steady part then starts after it
// (the settling allocates: it is the start's, not the idle phone's). Not
// idle (in a call), it waits for the next idle spell's read steadyAfter
// into it. The spell's lock is held across it: the phone leaving idle
// meanwhile waits for it (a few milliseconds, once).
func (w *watcher) settleIfIdle() {
	if !w.settleDue || w.settled {
		return
	}
	w.idle.mu.Lock()
	defer w.idle.mu.Unlock()
	if !w.idle.on {
		return
	}
	w.settle(w.step)
	w.settled = true
	if w.idle.steady.ok {
		m := readMem()
		w.idle.steady, w.idle.last = m, m
	}
}

// window is one stretch the watcher counts: the counters at its start, at
// the first read steadyAfter into it and at the last read (a call's
// ticker); an idle spell's steady part runs to the end instead (once).
type window struct {
	mu     sync.Mutex // sample's goroutine writes steady and last
	on     bool
	at     memCount
	steady memCount // zero until steadyAfter into the window
	last   memCount

	// What wakes sample for the window, one of the two: a call's
	// once-a-second ticker, or an idle spell's one timer, steadyAfter into
	// it, whose steady part then runs to the end.
	tick *time.Ticker
	once *time.Timer
}

// arm starts the window's ticker or timer; disarm stops it.
func (w *window) arm() {
	if w.once != nil {
		w.once.Reset(steadyAfter)
		return
	}
	w.tick.Reset(time.Second)
}

func (w *window) disarm() {
	if w.once != nil {
		w.once.Stop()
		return
	}
	w.tick.Stop()
}

// memCount is what the watcher reads of the runtime. Mallocs counts every
// heap object, tiny ones included; ReadMemStats flushes the per-P caches
// first, so the count is exact (runtime/metrics' /gc/heap/allocs:objects
// is counted as the caches refill, and lags by up to a span per size).
type memCount struct {
	ok       bool
	mallocs  uint64
	gcs      uint32
	heapKiB  uint64
	readTime time.Time
}

func readMem() memCount {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memCount{ok: true, mallocs: m.Mallocs, gcs: m.NumGC, heapKiB: m.HeapAlloc / 1024, readTime: time.Now()}
}

// begin starts the window, and its ticker or timer.
func (w *window) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.on, w.at, w.steady, w.last = true, readMem(), memCount{}, memCount{}
	w.arm()
}

// read is sample's read for the window (its ticker or timer fired).
func (w *window) read() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.on {
		return
	}
	m := readMem()
	switch {
	case w.steady.ok:
		w.last = m
	case m.readTime.Sub(w.at.readTime) >= steadyAfter:
		w.steady, w.last = m, m
	}
}

// end closes the window (and stops its ticker or timer) and returns the
// counters at its start, at the start and end of its steady part (ok
// false if it was too short to have one) and now.
func (w *window) end() (at, steady, last, now memCount, was bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.on {
		return
	}
	w.on = false
	w.disarm()
	now = readMem()
	last = w.last
	if w.once != nil && w.steady.ok {
		last = now
	}
	return w.at, w.steady, last, now, true
}

// steadyText says what the steady part of a window cost: "N after its
// first second (R/s)", or that the window was too short to have one.
func steadyText(steady, now memCount) (n uint64, rate float64, secs float64, ok bool) {
	if !steady.ok {
		return 0, 0, 0, false
	}
	secs = now.readTime.Sub(steady.readTime).Seconds()
	n = now.mallocs - steady.mallocs
	if secs > 0 {
		rate = float64(n) / secs
	}
	return n, rate, secs, true
}

func (w *watcher) Call(id int, state, peer string) {
	w.Observer.Call(id, state, peer)
	if !w.heap {
		return
	}
	switch {
	case state == "connected" && w.callID == 0:
		w.callID = id
		w.call.begin()
	case strings.HasPrefix(state, "ended:") && id == w.callID:
		w.callID = 0
		at, steady, last, now, _ := w.call.end()
		w.logWindow("call "+strconv.Itoa(id), at, steady, last, now, "connected")
	}
}

// Phone watches the idle spells: from the phone going idle to it leaving
// idle (a registered phone's steady state: keepalives, refreshes).
func (w *watcher) Phone(state string) {
	w.Observer.Phone(state)
	if !w.heap {
		return
	}
	if state == "idle" {
		w.idle.begin()
		return
	}
	if at, steady, last, now, was := w.idle.end(); was && steady.ok {
		w.logWindow("idle", at, steady, last, now, "to "+state)
	}
}

// logWindow logs one window, e.g. "call 1: 12.0 s connected, 512 heap
// allocations, 0 after its first second (0.0/s over 10.0 s), 0 GC cycles,
// heap 540 KiB": the steady part from the read a second in to the last
// read before the end (a call) or to the end (an idle spell: sample).
func (w *watcher) logWindow(what string, at, steady, last, now memCount, verb string) {
	if verb != "" {
		verb = " " + verb
	}
	total := now.readTime.Sub(at.readTime).Seconds()
	if n, rate, secs, ok := steadyText(steady, last); ok {
		w.step("%s: %.1f s%s, %d heap allocations, %d after its first second (%.1f/s over %.1f s), %d GC cycles, heap %d KiB",
			what, total, verb, now.mallocs-at.mallocs, n, rate, secs, now.gcs-at.gcs, now.heapKiB)
		return
	}
	w.step("%s: %.1f s%s, %d heap allocations, %d GC cycles, heap %d KiB",
		what, total, verb, now.mallocs-at.mallocs, now.gcs-at.gcs, now.heapKiB)
}

// DisplayBytes passes a row built in the phone's buffer on without a copy
// when the observer takes bytes (hal.DisplayWriter, asked once: newWatcher).
func (w *watcher) DisplayBytes(row int, text []byte) {
	if w.dw != nil {
		w.dw.DisplayBytes(row, text)
		return
	}
	w.Observer.Display(row, string(text))
}

func (b *watcher) Reg(line int, state string) {
	b.Observer.Reg(line, state)
	if state == "registered" {
		b.once.Do(func() {
			b.step("line %d registered (process start to registered: %d ms)", line, time.Since(b.start).Milliseconds())
		})
		b.confirm()
	}
}

// confirm closes registered, once.
func (w *watcher) confirm() { w.confirmOnce.Do(func() { close(w.registered) }) }
