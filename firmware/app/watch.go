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
}

func newWatcher(ctx context.Context, o hal.Observer, start time.Time, step func(string, ...any), heap bool) *watcher {
	w := &watcher{Observer: o, start: start, step: step, heap: heap, registered: make(chan struct{})}
	w.dw, _ = o.(hal.DisplayWriter)
	if heap {
		go w.sample(ctx)
	}
	return w
}

// sample reads the counters once a second (one goroutine and one ticker,
// made once: a sample allocates nothing) for the open windows: the first
// read a second (steadyAfter) into a window starts its steady part, the
// last before its end ends it. So the event that ends a window (the far
// end's BYE, handled by the user agent before the phone hears of it) is
// not counted as steady.
func (w *watcher) sample(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.call.tick()
		w.idle.tick()
	}
}

// window is one stretch the watcher counts: the counters at its start, at
// the first sample a second (steadyAfter) into it and at the last sample.
type window struct {
	mu     sync.Mutex // sample's goroutine writes steady and last
	on     bool
	at     memCount
	steady memCount // zero until steadyAfter into the window
	last   memCount
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

// begin starts the window.
func (w *window) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.on, w.at, w.steady, w.last = true, readMem(), memCount{}, memCount{}
}

func (w *window) tick() {
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

// end closes the window and returns the counters at its start, at the
// start and end of its steady part (ok false if it was too short to have
// one) and now.
func (w *window) end() (at, steady, last, now memCount, was bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.on {
		return
	}
	w.on = false
	return w.at, w.steady, w.last, readMem(), true
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
		w.logWindow("idle", at, steady, last, now, "")
	}
}

// logWindow logs one window, e.g. "call 1: 12.0 s connected, 512 heap
// allocations, 0 after its first second (0.0/s over 10.0 s), 0 GC cycles,
// heap 540 KiB": the steady part from the first sample a second in to the
// last sample before the end.
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
