package audio

import "sync"

// The microphone mute. The engine's own state is in engine.go; the mute is
// kept beside it, one flag per engine, so that this feature stays in one
// file.
var mutes sync.Map // *Engine -> *muteFlag

type muteFlag struct {
	mu sync.Mutex
	on bool
}

func (e *Engine) muteFlag() *muteFlag {
	if f, ok := mutes.Load(e); ok {
		return f.(*muteFlag)
	}
	f, _ := mutes.LoadOrStore(e, new(muteFlag))
	return f.(*muteFlag)
}

// SetMute turns the microphone mute on or off: while on, ProcessMuted sends
// silence to the far end in place of the microphone (the stream, its timing
// and RFC 4733 digits go on). Safe from any goroutine.
func (e *Engine) SetMute(on bool) {
	f := e.muteFlag()
	f.mu.Lock()
	f.on = on
	f.mu.Unlock()
}

// Muted reports whether the microphone is muted.
func (e *Engine) Muted() bool {
	f := e.muteFlag()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.on
}

// ProcessMuted is Process honouring the mute: while muted, mic is cleared
// (the caller's buffer: it is read only for this frame) before the frame
// is encoded. It does not allocate.
func (e *Engine) ProcessMuted(mic, ear []int16) {
	if e.Muted() {
		clear(mic)
	}
	e.Process(mic, ear)
}
