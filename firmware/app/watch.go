package app

import (
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/hal"
)

// watcher is the panel's observer that also logs, once, how long the phone
// took from process start to its first registration, and for each call the
// heap allocations and GC cycles from its answer to its end (DESIGN.md: the
// fixed-allocation core is watched at run time).
type watcher struct {
	hal.Observer
	start time.Time
	step  func(string, ...any)
	once  sync.Once

	callID    int // the call being watched, 0: none
	callStart time.Time
	mallocs   uint64
	gcs       uint32
}

func (w *watcher) Call(id int, state, peer string) {
	w.Observer.Call(id, state, peer)
	switch {
	case state == "connected" && w.callID == 0:
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.callID, w.callStart, w.mallocs, w.gcs = id, time.Now(), m.Mallocs, m.NumGC
	case strings.HasPrefix(state, "ended:") && id == w.callID:
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.step("call %d: %.1f s connected, %d heap allocations, %d GC cycles, heap %d KiB",
			id, time.Since(w.callStart).Seconds(), m.Mallocs-w.mallocs, m.NumGC-w.gcs, m.HeapAlloc/1024)
		w.callID = 0
	}
}

func (b *watcher) Reg(line int, state string) {
	b.Observer.Reg(line, state)
	if state == "registered" {
		b.once.Do(func() {
			b.step("line %d registered (process start to registered: %d ms)", line, time.Since(b.start).Milliseconds())
		})
	}
}
