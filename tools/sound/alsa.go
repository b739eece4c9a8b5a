package sound

import (
	"fmt"
	"sync"

	"github.com/deskphone/deskphone/hal/alsa"
)

// ALSA is a sound card's hw device through hal/alsa (the phone's own ALSA
// code, pure Go): its clock runs a loop that exchanges a 20 ms frame each
// way.
type ALSA struct {
	dev  string
	pcm  *alsa.PCM
	rate int
	ring *Ring
	wg   sync.WaitGroup
}

// OpenALSA opens dev (e.g. hw:0,0) at rate.
func OpenALSA(dev string, rate int) (*ALSA, error) {
	if _, err := alsa.ParseDevice(dev); err != nil {
		return nil, fmt.Errorf("sound: %w", err)
	}
	p := alsa.New(alsa.Config{Playback: dev})
	if err := p.Open(rate, rate/50); err != nil {
		return nil, fmt.Errorf("sound: ALSA %s: %w", dev, err)
	}
	return &ALSA{dev: dev, pcm: p, rate: rate, ring: NewRing(rate / 5)}, nil
}

func (a *ALSA) Start(mic func([]int16)) error {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		ear := make([]int16, a.rate/50)
		in := make([]int16, a.rate/50)
		for {
			a.ring.Pull(ear)
			if err := a.pcm.Exchange(ear, in); err != nil {
				return // closed
			}
			mic(in)
		}
	}()
	return nil
}

func (a *ALSA) Play(s []int16) { a.ring.Push(s) }

func (a *ALSA) Close() error {
	err := a.pcm.Close()
	a.wg.Wait()
	return err
}

func (a *ALSA) String() string { return "ALSA " + a.dev }
