package sound

import (
	"fmt"
	"sync"
	"time"

	"github.com/deskphone/deskphone/tools/wav"
)

// WAVIn plays a WAV file into the microphone in real time, 20 ms at a
// time, then silence.
type WAVIn struct {
	path    string
	samples []int16
	rate    int
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

// OpenWAV reads path, which must be at rate (the panel's).
func OpenWAV(path string, rate int) (*WAVIn, error) {
	s, r, err := wav.Read(path)
	if err != nil {
		return nil, fmt.Errorf("sound: %w", err)
	}
	if r != rate {
		return nil, fmt.Errorf("sound: %s is %d Hz; the phone's audio is %d Hz", path, r, rate)
	}
	return &WAVIn{path: path, samples: s, rate: rate, stop: make(chan struct{})}, nil
}

func (w *WAVIn) Start(mic func([]int16)) error {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		frame := make([]int16, w.rate/50)
		s := w.samples
		for {
			n := copy(frame, s)
			clear(frame[n:])
			s = s[n:]
			mic(frame)
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

func (w *WAVIn) Play([]int16) {}

func (w *WAVIn) Close() error {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
	return nil
}

func (w *WAVIn) String() string { return "WAV " + w.path }

// WAVOut records the earpiece into a WAV file.
type WAVOut struct {
	path string
	mu   sync.Mutex
	w    *wav.Writer
	err  error
}

// CreateWAV starts path at rate.
func CreateWAV(path string, rate int) (*WAVOut, error) {
	w, err := wav.Create(path, rate)
	if err != nil {
		return nil, fmt.Errorf("sound: %w", err)
	}
	return &WAVOut{path: path, w: w}, nil
}

func (w *WAVOut) Start(func([]int16)) error { return nil }

func (w *WAVOut) Play(s []int16) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && w.w != nil {
		w.err = w.w.Write(s)
	}
}

// Close finishes the file; a write that failed before is its error.
func (w *WAVOut) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.w == nil {
		return w.err
	}
	err := w.w.Close()
	w.w = nil
	if w.err != nil {
		return w.err
	}
	return err
}

func (w *WAVOut) String() string { return "WAV " + w.path }
