package lab

import (
	"context"
	"time"
)

// Talk plays ToneAtoB into the phone's microphone while it records its
// earpiece for d, and returns the last 2 s of what the earpiece played
// (the start of a call may be silence while media starts).
func (ph *Phone) Talk(ctx context.Context, d time.Duration) ([]int16, error) {
	playCtx, stop := context.WithCancel(ctx)
	defer stop()
	go ph.Panel.PlayTone(playCtx, ToneAtoB, toneAmp)
	s, err := ph.Panel.Record(d)
	if err != nil {
		return nil, err
	}
	if len(s) > 16000 {
		s = s[len(s)-16000:]
	}
	return s, nil
}
