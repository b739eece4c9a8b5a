package hal

// EventKind says what a person did to the phone.
type EventKind int

const (
	// KeyPress is one press and release of a key; Event.Key names it.
	KeyPress EventKind = iota + 1
	// HookOff is the handset lifted.
	HookOff
	// HookOn is the handset replaced.
	HookOn
)

func (k EventKind) String() string {
	switch k {
	case KeyPress:
		return "key"
	case HookOff:
		return "hook-off"
	case HookOn:
		return "hook-on"
	}
	return "unknown"
}

// Event is one thing a person did: a key press or a hook change.
type Event struct {
	Kind EventKind
	// Key is set for KeyPress: "0"-"9", "*", "#" or a named key of panel.md
	// ("send", "hold", "transfer", ..., "volup", "voldown").
	Key string
}

// Input delivers key and hook events, in order, from one goroutine.
type Input interface {
	Events() <-chan Event
}

// Codec is the handset's PCM path: 16-bit mono samples at a fixed rate. It is
// the audio clock: Exchange returns once per frame period.
type Codec interface {
	// Open prepares the codec for rate samples/s in frames of frame samples.
	Open(rate, frame int) error
	// Exchange blocks until the next frame period, plays ear (len frame) on
	// the earpiece and fills mic (len frame) with the microphone samples of
	// the period just ended (silence where none were captured). Neither slice
	// is kept after it returns.
	Exchange(ear, mic []int16) error
	// Close stops the codec; a blocked Exchange returns an error.
	Close() error
}

// Wideband is a Codec that runs at 16000 samples/s (G.722's rate) as well
// as 8000: the phone opens it at 16000 when Wideband says so, and its media
// engine runs wideband (a G.711 call is resampled at its codec). The
// virtual panel is one (it streams 8000 to an audio client that does not
// ask for 16000: panel.md); so is the WM8960 with its ALSA PCM.
type Wideband interface {
	Codec
	Wideband() bool
}

// Observer is told what a person would see and hear: the state lines of
// panel.md. The virtual panel sends them to its client; a hardware board
// drives its lamps, ringer and display from them and logs the rest.
// Methods are called from the phone's goroutine and must not block for long.
type Observer interface {
	Reg(line int, state string)      // registered, unregistered, failed:CODE
	Phone(state string)              // idle, dialtone, dialing, ...
	Call(id int, state, peer string) // incoming, calling, ringing, ..., ended:CODE
	Ring(on bool, cadence string)    // ringer on with a cadence name, or off
	Tone(name string)                // dial, ringback, busy, congestion, waiting, none
	LED(name, state string)          // lamp name; on, off, blink
	Display(row int, text string)    // a display row
	MWI(line, newMsgs, oldMsgs int)  // voicemail counts
	Log(text string)                 // free text for people
}

// DisplayWriter is an Observer that takes a display row as bytes, which it
// copies before it returns: the phone builds the rows that change during a
// call (digits sent and received, hold) in a buffer it reuses, so that a
// steady call allocates nothing (DESIGN.md). text is the caller's again
// once DisplayBytes returns.
type DisplayWriter interface {
	DisplayBytes(row int, text []byte)
}

// Discard is an Observer (and a DisplayWriter) that keeps nothing: for a
// phone whose output nobody watches, and for tests that count what the
// phone itself does.
var Discard discard

type discard struct{}

func (discard) Reg(int, string)          {}
func (discard) Phone(string)             {}
func (discard) Call(int, string, string) {}
func (discard) Ring(bool, string)        {}
func (discard) Tone(string)              {}
func (discard) LED(string, string)       {}
func (discard) Display(int, string)      {}
func (discard) MWI(int, int, int)        {}
func (discard) Log(string)               {}
func (discard) DisplayBytes(int, []byte) {}

// DisplayBytes shows text on row of o: through DisplayBytes when o has it,
// else as a string (a copy). A caller on a path that must not allocate
// asserts o to a DisplayWriter once: a type assertion's cache at the call
// site is grown now and then (an allocation) for a type it has not kept.
func DisplayBytes(o Observer, row int, text []byte) {
	if w, ok := o.(DisplayWriter); ok {
		w.DisplayBytes(row, text)
		return
	}
	o.Display(row, string(text))
}

// KeyEvent is one debounced change of one key of a keypad.
type KeyEvent struct {
	Key  string // the key's name, as in Event.Key
	Down bool   // pressed (true) or released (false)
	// Long is set on the one extra event a key held past the long-press
	// time sends while still down (Down is true).
	Long bool
}

// Keypad is a key matrix: it sends every debounced press and release, and
// a long-press event for a key held down.
type Keypad interface {
	KeyEvents() <-chan KeyEvent
}

// Hook is the hookswitch.
type Hook interface {
	// OffHook reports the debounced state: true while the handset is lifted.
	OffHook() bool
	// Changes sends the new state on every debounced change.
	Changes() <-chan bool
}

// Ringer rings the bell, buzzer or relay with a named cadence ("normal",
// or a country's: "us", "uk", "de", ...; drivers document theirs).
type Ringer interface {
	Ring(cadence string) error
	Silence() error
}

// CodecControl is the analogue side of a hardware codec. Volumes are in
// percent (0-100) of the codec's useful range; gain in dB.
type CodecControl interface {
	SetVolume(percent int) error // earpiece (headphone) and speaker
	SetMute(mute bool) error     // the DAC output (earpiece and speaker)
	SetMicGain(db int) error     // microphone pre-amplifier and boost
}

// PCM is a Codec whose stream can be stopped and restarted without closing
// it (a phone stops the codec between calls to save power).
type PCM interface {
	Codec
	Start() error
	Stop() error
}

// Indicators are the phone's lamps and display.
type Indicators interface {
	Lamp(name, state string) error // state: on, off, blink
	Row(row int, text string) error
}
