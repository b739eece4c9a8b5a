package sound

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Meter keeps the level of each direction: the peak of the last 100 ms or
// so, decaying when nothing louder comes.
type Meter struct {
	mu       sync.Mutex
	ear, mic level
}

type level struct {
	peak float64 // 0..1 of full scale
	at   time.Time
}

// hold is how long a peak shows before it decays.
const hold = 150 * time.Millisecond

func (l *level) add(s []int16, now time.Time) {
	p := 0.0
	for _, v := range s {
		p = max(p, math.Abs(float64(v))/32768)
	}
	if p >= l.current(now) {
		l.peak, l.at = p, now
	}
}

// current is the peak, decayed after hold (20 dB a second).
func (l *level) current(now time.Time) float64 {
	d := now.Sub(l.at) - hold
	if d <= 0 {
		return l.peak
	}
	return l.peak * math.Pow(10, -d.Seconds())
}

// Ear measures earpiece samples.
func (m *Meter) Ear(s []int16) {
	m.mu.Lock()
	m.ear.add(s, time.Now())
	m.mu.Unlock()
}

// Mic measures microphone samples.
func (m *Meter) Mic(s []int16) {
	m.mu.Lock()
	m.mic.add(s, time.Now())
	m.mu.Unlock()
}

// Levels is each direction's level in dBFS (-inf for silence).
func (m *Meter) Levels() (ear, mic float64) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	return dB(m.ear.current(now)), dB(m.mic.current(now))
}

func dB(p float64) float64 { return 20 * math.Log10(p) }

// Bars renders both levels for the panel's screen:
// "ear [#######.....] -18 dB  mic [##..........] -42 dB".
func (m *Meter) Bars() string {
	ear, mic := m.Levels()
	return "ear " + bar(ear) + "  mic " + bar(mic)
}

// bar is a 12-step bar from -60 dBFS to 0, with the figure.
func bar(db float64) string {
	const steps = 12
	n := 0
	if db > -60 {
		n = min(int((db+60)/60*steps+0.5), steps)
	}
	fig := "  -inf"
	if !math.IsInf(db, -1) && db > -100 {
		dbs := strconv.Itoa(int(math.Round(db)))
		fig = strings.Repeat(" ", max(0, 3-len(dbs))) + dbs + " dB"
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", steps-n) + "] " + fig
}
