package app

import (
	"errors"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/deskphone/deskphone/firmware/boot"
)

// settleAfter is how long after its first registration the phone lets go
// of what starting cost it: by then provisioning, the first REGISTER and
// its subscriptions are done.
const settleAfter = 2 * time.Second

// settle is the phone's one settling after start, in a phone that has
// its process to itself (not Options.SharedProcess; the watcher runs it,
// watch.go, settleAfter the first registration, when the phone is idle,
// and starts the idle spell's steady part after it): a collection that
// returns the start's garbage to the system (the first one would
// otherwise wait for 4 MB of heap, which a steady phone never reaches, or
// for the runtime's forced collection two minutes on), then
// boot.DropStartPages, so the process keeps mapped only the code and data
// the phone runs from then on. The collection comes first because every
// later one (the runtime forces one every two minutes) keeps what it
// touches, its work buffers and the stack maps it reads: dropping pages
// before it would show a phone smaller than it stays. Both once: doing
// either again later would only move the figure, not the memory. Never in
// a call: reading the maps allocates, and a call's steady state
// allocates nothing (DESIGN.md).
func settle(step func(string, ...any)) {
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	before, after, err := boot.DropStartPages()
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		step("settled after start: heap %d KiB in use", m.HeapAlloc/1024)
	case err != nil:
		step("settled after start: heap %d KiB in use; program pages kept (%v)", m.HeapAlloc/1024, err)
	default:
		step("settled after start: heap %d KiB in use, the program's pages mapped %d KiB before and %d KiB after", m.HeapAlloc/1024, before, after)
	}
}
