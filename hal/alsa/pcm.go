package alsa

import (
	"errors"
	"fmt"
	"sync"
)

// Config says which devices a PCM uses and how.
type Config struct {
	Playback string // e.g. "hw:CARD=phone,DEV=0"
	Capture  string // "" means the same as Playback
	Channels int    // 1 or 2 (a stereo codec gets the mono sample on both; the left is captured); 0 means 1
	// PeriodMs is the ALSA period, 5-10 ms; 0 means 10.
	PeriodMs int
	// Periods is the ring buffer length in periods; 0 means enough for
	// the prefill and two frames, at least 4.
	Periods int
	// PrefillMs is the silence queued for playback before the first frame:
	// the latency the codec adds on the way out, and the cushion against
	// the loop being late. 0 means one frame (at least one period).
	PrefillMs int
}

// Stats count what happened on a PCM.
type Stats struct {
	Frames     uint64 // frames exchanged
	Underruns  uint64 // playback xruns recovered
	Overruns   uint64 // capture xruns recovered
	PeriodSize int    // frames per period granted by the driver
	BufferSize int    // frames in the ring buffer granted by the driver
}

// stream is one direction of one PCM device, as the platform opens it.
type stream interface {
	// readFrames fills buf with exactly n frames, recovering from overruns.
	readFrames(buf []int16, n int) (xruns int, err error)
	// writeFrames plays exactly n frames of buf, recovering from underruns.
	writeFrames(buf []int16, n int) (xruns int, err error)
	prepare() error
	start() error
	drop() error
	close() error
	granted() (period, buffer int)
}

// streamParams are the hardware parameters asked of a stream.
type streamParams struct {
	rate, channels, period, periods int
	// startThreshold is the sw_params start threshold in frames.
	startThreshold int
}

// PCM is a full-duplex sample path through ALSA. It implements hal.Codec
// and hal.PCM. Methods other than Exchange may be called from any
// goroutine; Exchange from one goroutine at a time.
type PCM struct {
	cfg Config

	mu      sync.Mutex
	play    stream
	capt    stream
	running bool
	closed  bool

	rate, frame, channels int
	prefill               int
	pbuf, cbuf            []int16 // interleaved, allocated at Open
	stats                 Stats
}

// New returns a PCM for cfg. It opens nothing.
func New(cfg Config) *PCM {
	if cfg.Capture == "" {
		cfg.Capture = cfg.Playback
	}
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	if cfg.PeriodMs == 0 {
		cfg.PeriodMs = 10
	}
	return &PCM{cfg: cfg}
}

// Open opens both streams at rate samples/s and sets them up for frames
// of frame samples; it does not start them (Exchange and Start do).
func (p *PCM) Open(rate, frame int) error {
	if rate != 8000 && rate != 16000 && rate != 48000 {
		return fmt.Errorf("alsa: rate %d: want 8000, 16000 or 48000", rate)
	}
	if p.cfg.Channels != 1 && p.cfg.Channels != 2 {
		return fmt.Errorf("alsa: %d channels: want 1 or 2", p.cfg.Channels)
	}
	if p.cfg.PeriodMs < 5 || p.cfg.PeriodMs > 10 {
		return fmt.Errorf("alsa: period %d ms: want 5-10", p.cfg.PeriodMs)
	}
	period := rate * p.cfg.PeriodMs / 1000
	if frame <= 0 || frame%period != 0 && period%frame != 0 {
		return fmt.Errorf("alsa: frame %d samples is not a multiple or divisor of the %d-sample period", frame, period)
	}
	// Playback starts once one frame (at least a period) of silence is
	// queued: that is the latency the codec adds on the way out.
	prefill := max(frame, period, rate*p.cfg.PrefillMs/1000)
	periods := p.cfg.Periods
	if periods == 0 {
		periods = max(4, (prefill+2*frame+period-1)/period)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("alsa: closed")
	}
	if p.play != nil {
		return errors.New("alsa: already open")
	}
	sp := streamParams{rate: rate, channels: p.cfg.Channels, period: period, periods: periods, startThreshold: prefill}
	play, err := openStream(p.cfg.Playback, false, sp)
	if err != nil {
		return err
	}
	sp.startThreshold = 1
	capt, err := openStream(p.cfg.Capture, true, sp)
	if err != nil {
		play.close()
		return err
	}
	p.play, p.capt = play, capt
	p.rate, p.frame, p.channels, p.prefill = rate, frame, p.cfg.Channels, prefill
	p.pbuf = make([]int16, max(frame, prefill)*p.channels)
	p.cbuf = make([]int16, frame*p.channels)
	p.stats = Stats{}
	p.stats.PeriodSize, p.stats.BufferSize = play.granted()
	return nil
}

// Start prepares both streams, queues the prefill silence and starts
// capture. Exchange starts a stopped PCM by itself.
func (p *PCM) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startLocked()
}

func (p *PCM) startLocked() error {
	if p.play == nil {
		return errors.New("alsa: not open")
	}
	if p.running {
		return nil
	}
	if err := p.play.prepare(); err != nil {
		return err
	}
	if err := p.capt.prepare(); err != nil {
		return err
	}
	clear(p.pbuf)
	x, err := p.play.writeFrames(p.pbuf, p.prefill)
	p.stats.Underruns += uint64(x)
	if err != nil {
		return err
	}
	if err := p.capt.start(); err != nil {
		return err
	}
	p.running = true
	return nil
}

// Stop drops both streams (pending samples are discarded).
func (p *PCM) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.play == nil || !p.running {
		return nil
	}
	p.running = false
	return errors.Join(p.play.drop(), p.capt.drop())
}

// Exchange plays ear and fills mic with one frame each; it blocks until
// the codec has captured a whole frame.
func (p *PCM) Exchange(ear, mic []int16) error {
	p.mu.Lock()
	if !p.running {
		if err := p.startLocked(); err != nil {
			p.mu.Unlock()
			return err
		}
	}
	play, capt, n, ch := p.play, p.capt, p.frame, p.channels
	p.mu.Unlock()
	if len(ear) < n || len(mic) < n {
		return fmt.Errorf("alsa: frame buffers %d/%d samples, want %d", len(ear), len(mic), n)
	}
	pb, cb := p.pbuf, p.cbuf
	if ch == 1 {
		pb = ear
		cb = mic
	} else {
		for i, s := range ear[:n] {
			pb[2*i], pb[2*i+1] = s, s
		}
	}
	x, err := play.writeFrames(pb, n)
	p.stats.Underruns += uint64(x)
	if err != nil {
		return err
	}
	x, err = capt.readFrames(cb, n)
	p.stats.Overruns += uint64(x)
	if err != nil {
		return err
	}
	if ch == 2 {
		for i := range mic[:n] {
			mic[i] = cb[2*i]
		}
	}
	p.stats.Frames += uint64(n)
	return nil
}

// Stats returns the counters. Call it from the Exchange goroutine or after
// Close.
func (p *PCM) Stats() Stats { return p.stats }

// Close stops and closes both streams; a blocked Exchange returns an error.
func (p *PCM) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.play == nil {
		return nil
	}
	p.running = false
	err := errors.Join(p.play.drop(), p.capt.drop(), p.play.close(), p.capt.close())
	p.play, p.capt = nil, nil
	return err
}
