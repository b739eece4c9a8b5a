package sound

import (
	"fmt"

	"github.com/jfreymuth/pulse"
)

// Pulse is a PulseAudio (or PipeWire) server's default sink and source.
type Pulse struct {
	server string
	c      *pulse.Client
	play   *pulse.PlaybackStream
	rec    *pulse.RecordStream
	ring   *Ring
	rate   int
	sink   *pulse.Sink   // nil: the default
	source *pulse.Source // nil: the default
}

// OpenPulse connects to server (unix:/path, tcp:host:port, or a path).
func OpenPulse(server string, rate int) (*Pulse, error) {
	c, err := pulse.NewClient(pulse.ClientApplicationName("deskphone panel"), pulse.ClientServerString(server))
	if err != nil {
		return nil, fmt.Errorf("sound: PulseAudio at %s: %w", server, err)
	}
	// 200 ms of earpiece between the phone's clock and the server's.
	return &Pulse{server: server, c: c, rate: rate, ring: NewRing(rate / 5)}, nil
}

// UseSink and UseSource pick devices by name instead of the defaults
// (before Start).
func (p *Pulse) UseSink(name string) error {
	s, err := p.c.SinkByID(name)
	if err != nil {
		return fmt.Errorf("sound: sink %s: %w", name, err)
	}
	p.sink = s
	return nil
}

func (p *Pulse) UseSource(name string) error {
	s, err := p.c.SourceByID(name)
	if err != nil {
		return fmt.Errorf("sound: source %s: %w", name, err)
	}
	p.source = s
	return nil
}

func (p *Pulse) Start(mic func([]int16)) error {
	popts := []pulse.PlaybackOption{pulse.PlaybackMono, pulse.PlaybackSampleRate(p.rate), pulse.PlaybackLatency(0.06),
		pulse.PlaybackMediaName("earpiece")}
	if p.sink != nil {
		popts = append(popts, pulse.PlaybackSink(p.sink))
	}
	play, err := p.c.NewPlayback(pulse.Int16Reader(func(b []int16) (int, error) {
		p.ring.Pull(b)
		return len(b), nil
	}), popts...)
	if err != nil {
		return fmt.Errorf("sound: PulseAudio playback: %w", err)
	}
	ropts := []pulse.RecordOption{pulse.RecordMono, pulse.RecordSampleRate(p.rate), pulse.RecordLatency(0.02),
		pulse.RecordMediaName("microphone")}
	if p.source != nil {
		ropts = append(ropts, pulse.RecordSource(p.source))
	}
	rec, err := p.c.NewRecord(pulse.Int16Writer(func(b []int16) (int, error) {
		mic(b)
		return len(b), nil
	}), ropts...)
	if err != nil {
		play.Close()
		return fmt.Errorf("sound: PulseAudio record: %w", err)
	}
	p.play, p.rec = play, rec
	play.Start()
	rec.Start()
	return nil
}

func (p *Pulse) Play(s []int16) { p.ring.Push(s) }

func (p *Pulse) Close() error {
	if p.rec != nil {
		p.rec.Close()
	}
	if p.play != nil {
		p.play.Close()
	}
	p.c.Close()
	return nil
}

func (p *Pulse) String() string { return "PulseAudio " + p.server }
