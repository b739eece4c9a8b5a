// Package sound gives the terminal panel a voice: it carries a phone's
// panel audio (docs/panel.md: s16le mono at the panel's rate) to the
// host's sound and back, with no cgo.
//
//   - PulseAudio's native protocol (github.com/jfreymuth/pulse, pure Go),
//     which PipeWire's pipewire-pulse also speaks: the earpiece to the
//     default sink, the microphone from the default source. Found at
//     $PULSE_SERVER or $XDG_RUNTIME_DIR/pulse/native.
//   - An ALSA hw device through the project's own ALSA code (hal/alsa):
//     "alsa:hw:0,0".
//   - WAV files: the microphone from one (-mic FILE.wav, played in real
//     time, then silence), the earpiece into one (-record FILE.wav), beside
//     or instead of the speakers.
//
// The phone is the audio clock; a sound card has its own. Each device
// keeps the earpiece in a short ring (Ring) that plays silence when it
// runs dry and drops the oldest when it runs over, so the two clocks never
// drift apart by more than the ring; the microphone goes to the phone as
// the device delivers it (the phone's own ring evens it out).
//
// Meter measures both directions for the panel's level bars.
package sound

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Device is the host end of a phone's audio.
type Device interface {
	// Start begins; mic is called with each block of microphone samples
	// the device delivers (from its own goroutine; it must not keep the
	// slice).
	Start(mic func([]int16)) error
	// Play queues earpiece samples; it never blocks for long.
	Play(s []int16)
	Close() error
	String() string
}

// Options choose the devices of Open.
type Options struct {
	Rate int // the panel's sample rate
	// Sound is "auto" (PulseAudio when a server is found, else none),
	// "pulse" or "pulse:SERVER" (unix:/path or tcp:host:port), "alsa:DEV"
	// (e.g. alsa:hw:0,0) or "none".
	Sound  string
	Mic    string // a WAV file to play into the microphone instead of the device's
	Record string // a WAV file to record the earpiece into, beside the device
}

// Open opens the devices o names, as one Device: the earpiece to every
// one, the microphone from the WAV file when there is one, else from the
// sound device. Nil and no error when o names none.
func Open(o Options) (Device, error) {
	var speakers Device
	switch kind, arg, _ := strings.Cut(o.Sound, ":"); kind {
	case "", "auto":
		if server := PulseServer(); server != "" {
			d, err := OpenPulse(server, o.Rate)
			if err == nil {
				speakers = d
			}
			// auto: no sound server that answers is no sound, not an error
		}
	case "pulse":
		server := arg
		if server == "" {
			server = PulseServer()
		}
		if server == "" {
			return nil, errors.New("sound: no PulseAudio server ($PULSE_SERVER, $XDG_RUNTIME_DIR/pulse/native)")
		}
		d, err := OpenPulse(server, o.Rate)
		if err != nil {
			return nil, err
		}
		speakers = d
	case "alsa":
		d, err := OpenALSA(arg, o.Rate)
		if err != nil {
			return nil, err
		}
		speakers = d
	case "none":
	default:
		return nil, fmt.Errorf("sound: %q: want auto, pulse[:SERVER], alsa:DEVICE or none", o.Sound)
	}
	var devs []Device
	var mic Device
	if speakers != nil {
		devs = append(devs, speakers)
		mic = speakers
	}
	if o.Record != "" {
		d, err := CreateWAV(o.Record, o.Rate)
		if err != nil {
			closeAll(devs)
			return nil, err
		}
		devs = append(devs, d)
	}
	if o.Mic != "" {
		d, err := OpenWAV(o.Mic, o.Rate)
		if err != nil {
			closeAll(devs)
			return nil, err
		}
		devs = append(devs, d)
		mic = d
	}
	switch len(devs) {
	case 0:
		return nil, nil
	case 1:
		return devs[0], nil
	}
	return &mux{devs: devs, mic: mic}, nil
}

func closeAll(ds []Device) {
	for _, d := range ds {
		d.Close()
	}
}

// PulseServer is the PulseAudio server to use: $PULSE_SERVER, else the
// user's socket at $XDG_RUNTIME_DIR/pulse/native if it exists; "" = none.
func PulseServer() string {
	if s := os.Getenv("PULSE_SERVER"); s != "" {
		return s
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		p := filepath.Join(d, "pulse", "native")
		if _, err := os.Stat(p); err == nil {
			return "unix:" + p
		}
	}
	return ""
}

// mux is several devices as one: the earpiece to all, the microphone
// from one.
type mux struct {
	devs []Device
	mic  Device
}

func (m *mux) Start(mic func([]int16)) error {
	for _, d := range m.devs {
		f := func([]int16) {} // a device whose microphone is not taken
		if d == m.mic {
			f = mic
		}
		if err := d.Start(f); err != nil {
			return err
		}
	}
	return nil
}

func (m *mux) Play(s []int16) {
	for _, d := range m.devs {
		d.Play(s)
	}
}

func (m *mux) Close() error {
	var errs []error
	for _, d := range m.devs {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}

func (m *mux) String() string {
	var names []string
	for _, d := range m.devs {
		n := d.String()
		if d == m.mic {
			n += " (microphone)"
		}
		names = append(names, n)
	}
	return strings.Join(names, " + ")
}

// Ring is an earpiece ring between the phone's clock and a device's:
// Push from the phone, Pull by the device.
type Ring struct {
	mu   sync.Mutex
	buf  []int16
	head int
	n    int
}

// NewRing holds up to n samples.
func NewRing(n int) *Ring { return &Ring{buf: make([]int16, n)} }

// Push appends s, dropping the oldest samples when full.
func (r *Ring) Push(s []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range s {
		r.buf[(r.head+r.n)%len(r.buf)] = v
		if r.n < len(r.buf) {
			r.n++
		} else {
			r.head = (r.head + 1) % len(r.buf)
		}
	}
}

// Pull fills s, with silence where the ring is dry, and returns how many
// samples were real.
func (r *Ring) Pull(s []int16) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := min(r.n, len(s))
	for i := range k {
		s[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	clear(s[k:])
	r.head = (r.head + k) % len(r.buf)
	r.n -= k
	return k
}

// Sound is a Device carrying one phone's audio at a time: Attach moves it
// to another phone (the terminal panel's sound follows the phone shown).
type Sound struct {
	d     Device
	Meter Meter // both directions, for the level bars

	mu    sync.Mutex
	write func([]int16) error // the attached phone's microphone; nil: none
	gen   int                 // which Attach the earpiece reader belongs to
}

// Start starts d; nothing is attached yet.
func Start(d Device) (*Sound, error) {
	s := &Sound{d: d}
	if err := d.Start(s.mic); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sound) mic(b []int16) {
	s.Meter.Mic(b)
	s.mu.Lock()
	w := s.write
	s.mu.Unlock()
	if w != nil {
		w(b) // a phone gone away: its client's Close ends what follows
	}
}

// Attach carries a phone's audio from now on: the earpiece that read
// returns (panelclient.Client.ReadAudio) to the device, the device's
// microphone to write (WriteAudio). The phone attached before is let go:
// its reader stops at its next earpiece block, which is not played.
func (s *Sound) Attach(read func([]int16) (int, error), write func([]int16) error) {
	s.mu.Lock()
	s.gen++
	gen := s.gen
	s.write = write
	s.mu.Unlock()
	go func() {
		buf := make([]int16, 1024)
		for {
			n, err := read(buf)
			s.mu.Lock()
			current := s.gen == gen
			s.mu.Unlock()
			if err != nil || !current {
				return
			}
			s.Meter.Ear(buf[:n])
			s.d.Play(buf[:n])
		}
	}()
}

// Detach lets the attached phone go.
func (s *Sound) Detach() {
	s.mu.Lock()
	s.gen++
	s.write = nil
	s.mu.Unlock()
}

// Levels is the level bars, with the device's name.
func (s *Sound) Levels() string { return "sound: " + s.d.String() + "  " + s.Meter.Bars() }

// Close detaches and closes the device.
func (s *Sound) Close() error {
	s.Detach()
	return s.d.Close()
}

// Flags adds -sound, -mic and -record to fs, into o (the terminal
// panel's commands share them).
func Flags(fs *flag.FlagSet, o *Options) {
	fs.StringVar(&o.Sound, "sound", "auto", "the host's sound: auto (PulseAudio or PipeWire when found), pulse[:SERVER], alsa:DEVICE (e.g. alsa:hw:0,0) or none")
	fs.StringVar(&o.Mic, "mic", "", "play this WAV file (16-bit mono, 8000 Hz) into the microphone instead of the host's")
	fs.StringVar(&o.Record, "record", "", "record the earpiece into this WAV file as well")
}

// FromOptions opens and starts what o names at the panel's rate; nil
// when it names nothing (or auto finds no sound server).
func FromOptions(o Options) (*Sound, error) {
	if o.Rate == 0 {
		o.Rate = 8000 // docs/panel.md: the panel's audio
	}
	d, err := Open(o)
	if err != nil || d == nil {
		return nil, err
	}
	s, err := Start(d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return s, nil
}
