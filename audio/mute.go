package audio

// SetMute turns the microphone mute on or off: while on, Process sends
// silence to the far end in place of the microphone (the stream, its timing
// and RFC 4733 digits go on), and a Conference leaves the phone's
// microphone out of both far ends' mix. Safe from any goroutine.
func (e *Engine) SetMute(on bool) { e.muted.Store(on) }

// Muted reports whether the microphone is muted.
func (e *Engine) Muted() bool { return e.muted.Load() }
