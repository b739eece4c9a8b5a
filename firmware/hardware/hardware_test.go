package hardware

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/hal/alsa"
	"github.com/deskphone/deskphone/hal/panel"
	"github.com/deskphone/deskphone/hal/ringer"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

// fakeParts is a board of gpiotest pins; a column reads low when the key
// at (row, that column) is down and its row is driven low.
type fakeParts struct {
	mu      sync.Mutex
	pins    map[boards.GPIO]*gpiotest.Pin
	cols    map[boards.GPIO]*colPin
	rowOf   map[boards.GPIO]int
	rows    []*gpiotest.Pin
	pressed map[[2]int]bool
	i2c     *i2ctest.Record
	noI2C   bool
	noCard  bool
}

type colPin struct {
	gpiotest.Pin
	f *fakeParts
	c int
}

func (p *colPin) Read() gpio.Level {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	for r, row := range p.f.rows {
		if p.f.pressed[[2]int{r, p.c}] && row.Read() == gpio.Low {
			return gpio.Low
		}
	}
	return gpio.High
}

func newFake(b boards.Board) *fakeParts {
	f := &fakeParts{pins: map[boards.GPIO]*gpiotest.Pin{}, cols: map[boards.GPIO]*colPin{}, pressed: map[[2]int]bool{}, i2c: &i2ctest.Record{}}
	for _, n := range b.Wiring.KeypadRows {
		p := &gpiotest.Pin{N: n.String(), Num: int(n)}
		f.pins[n] = p
		f.rows = append(f.rows, p)
	}
	for c, n := range b.Wiring.KeypadCols {
		f.cols[n] = &colPin{Pin: gpiotest.Pin{N: n.String(), Num: int(n)}, f: f, c: c}
	}
	for _, n := range []boards.GPIO{b.Wiring.Hook, b.Wiring.Ringer, b.Wiring.MWILamp} {
		f.pins[n] = &gpiotest.Pin{N: n.String(), Num: int(n), EdgesChan: make(chan gpio.Level)}
	}
	return f
}

func (f *fakeParts) Init() (string, error) { return "fake", nil }
func (f *fakeParts) Pin(chip string, n boards.GPIO, pwm bool) (gpio.PinIO, error) {
	if c, ok := f.cols[n]; ok {
		return c, nil
	}
	if p, ok := f.pins[n]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no %v", n)
}
func (f *fakeParts) I2C(bus int) (i2c.Bus, error) {
	if f.noI2C {
		return nil, fmt.Errorf("no I2C bus %d", bus)
	}
	return f.i2c, nil
}

func (f *fakeParts) SoundCard(cfg alsa.Config) (string, int, error) {
	if f.noCard {
		return "", 0, errors.New("alsa: no sound card \"phone\" (the kernel's cards: none)")
	}
	return "fake card", 16000, nil
}

func (f *fakeParts) press(r, c int, down bool) {
	f.mu.Lock()
	f.pressed[[2]int{r, c}] = down
	f.mu.Unlock()
}

type logs struct {
	mu sync.Mutex
	l  []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	l.l = append(l.l, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

func TestBoardToHAL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, _ := boards.ByName("rpi4b")
		f := newFake(b)
		lg := &logs{}
		h, err := New(b, Options{Logf: lg.logf, Parts: f, Codec: noSleepCodec()})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if n := strings.Count(lg.String(), " loaded"); n != 5 {
			t.Fatalf("%d parts loaded:\n%s", n, lg)
		}
		// The codec was set up over I2C: reset first.
		if len(f.i2c.Ops) < 30 || f.i2c.Ops[0].W[0] != 0x0f<<1 {
			t.Errorf("codec writes %v", f.i2c.Ops)
		}
		// The fake's pull-up holds the hook input high: the handset is
		// lifted at start, and the phone is told so first.
		if e := next(t, h); e.Kind != hal.HookOff {
			t.Errorf("first event %+v", e)
		}
		// "5" is row 1, column 1.
		f.press(1, 1, true)
		if e := next(t, h); e != (hal.Event{Kind: hal.KeyPress, Key: "5"}) {
			t.Errorf("event %+v", e)
		}
		f.press(1, 1, false)
		// Replace and lift the handset: the input reads high while lifted.
		hookPin := f.pins[b.Wiring.Hook]
		hookPin.EdgesChan <- gpio.Low
		if e := next(t, h); e.Kind != hal.HookOn {
			t.Errorf("event %+v", e)
		}
		hookPin.EdgesChan <- gpio.High
		if e := next(t, h); e.Kind != hal.HookOff {
			t.Errorf("event %+v", e)
		}
		// The observer rings the bell with the board's cadence (us: 2 s on).
		ring := f.pins[b.Wiring.Ringer]
		h.Ring(true, "normal")
		time.Sleep(time.Second)
		if ring.Read() != gpio.High {
			t.Error("not ringing 1 s in")
		}
		time.Sleep(2 * time.Second)
		if ring.Read() != gpio.Low {
			t.Error("ringing 3 s in (us cadence: 2 s on, 4 s off)")
		}
		h.Ring(false, "")
		synctest.Wait()
		if ring.Read() != gpio.Low {
			t.Error("still ringing")
		}
		lamp := f.pins[b.Wiring.MWILamp]
		h.MWI(1, 2, 0)
		if lamp.Read() != gpio.High {
			t.Error("message lamp off with 2 new messages")
		}
		h.MWI(1, 0, 2)
		if lamp.Read() != gpio.Low {
			t.Error("message lamp on with no new messages")
		}
		if h.Codec() == nil {
			t.Error("no codec")
		}
	})
}

// startBroken starts the board's hal on fakes that breaks spoils; the hal must
// start all the same (the other parts work).
func startBroken(t *testing.T, board string, breaks func(*fakeParts)) (*HAL, *fakeParts, *logs) {
	t.Helper()
	b, _ := boards.ByName(board)
	f := newFake(b)
	breaks(f)
	lg := &logs{}
	h, err := New(b, Options{Logf: lg.logf, Parts: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, f, lg
}

func TestPartFailsOthersWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _, lg := startBroken(t, "rpizero2w", func(f *fakeParts) { f.noI2C = true })
		if !strings.Contains(lg.String(), "codec at 0x1a on I2C bus 1, PCM hw:CARD=phone,DEV=0 and hw:CARD=phone,DEV=1 failed: no I2C bus 1") || h.Codec() != nil {
			t.Errorf("log:\n%s", lg)
		}
	})
}

// Without the sound card the codec is not touched: no I2C traffic.
func TestNoSoundCardNoCodec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, f, lg := startBroken(t, "rpi4b", func(f *fakeParts) { f.noCard = true })
		if !strings.Contains(lg.String(), `failed: alsa: no sound card "phone"`) || h.Codec() != nil {
			t.Errorf("log:\n%s", lg)
		}
		if len(f.i2c.Ops) != 0 {
			t.Errorf("%d I2C transactions without a sound card", len(f.i2c.Ops))
		}
	})
}

func TestSoundCardLookup(t *testing.T) {
	cards := []byte(" 0 [phone          ]: simple-card - phone\n                      phone\n 1 [Loopback       ]: Loopback - Loopback\n")
	have := map[string]bool{"/dev/snd/pcmC0D0p": true, "/dev/snd/pcmC0D1c": true}
	stat := func(p string) error {
		if !have[p] {
			return os.ErrNotExist
		}
		return nil
	}
	got, err := soundCard("hw:CARD=phone,DEV=0", "hw:CARD=phone,DEV=1", cards, stat)
	if err != nil || got != "playback hw:CARD=phone,DEV=0 (/dev/snd/pcmC0D0p), capture hw:CARD=phone,DEV=1 (/dev/snd/pcmC0D1c)" {
		t.Errorf("soundCard = %q, %v", got, err)
	}
	if _, err := soundCard("hw:CARD=phone,DEV=0", "hw:CARD=phone,DEV=0", cards, stat); err == nil {
		t.Error("capture on the playback-only device accepted")
	}
	_, err = soundCard("hw:CARD=wm8960soundcard,DEV=0", "hw:CARD=phone,DEV=1", cards, stat)
	if err == nil || !strings.Contains(err.Error(), "phone") || !strings.Contains(err.Error(), "Loopback") {
		t.Errorf("missing card: %v; want the kernel's cards named", err)
	}
	if _, err := soundCard("hw:CARD=phone,DEV=0", "hw:CARD=phone,DEV=1", []byte("--- no soundcards ---\n"), stat); err == nil || !strings.Contains(err.Error(), "cards: none") {
		t.Errorf("no cards: %v", err)
	}
}

func TestNewRefusesPanelBoards(t *testing.T) {
	for _, n := range []string{"qemu", "sim"} {
		b, _ := boards.ByName(n)
		if _, err := New(b, Options{}); err == nil {
			t.Errorf("New(%s) worked", n)
		}
	}
}

// Every hardware board's keys and cadence exist for the drivers.
func TestBoardsFitDrivers(t *testing.T) {
	for _, b := range boards.All() {
		if b.Panel {
			continue
		}
		for _, row := range b.Wiring.Keys {
			for _, k := range row {
				if !panel.ValidKey(k) {
					t.Errorf("%s: key %q is not a panel.md key", b.Name, k)
				}
			}
		}
		if _, ok := ringer.CadenceOf(b.Wiring.Country); !ok {
			t.Errorf("%s: no cadence for %q", b.Name, b.Wiring.Country)
		}
		if _, err := New(b, Options{}); err != nil {
			t.Error(err)
		}
	}
}

// next waits for the next event, at most a (bubble) minute.
func next(t *testing.T, h *HAL) hal.Event {
	t.Helper()
	select {
	case e := <-h.Events():
		return e
	case <-time.After(time.Minute):
		t.Fatal("no event")
		return hal.Event{}
	}
}

func TestI2CNode(t *testing.T) {
	dir := t.TempDir()
	bus := filepath.Join(dir, "i2c-1")
	if err := os.Mkdir(bus, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../firmware/devicetree/base/soc/i2c@7e804000", filepath.Join(bus, "of_node")); err != nil {
		t.Fatal(err)
	}
	if got := i2cNode(dir, 1); got != "/soc/i2c@7e804000" {
		t.Errorf("i2cNode = %q", got)
	}
	if got := i2cNode(dir, 2); got != "" {
		t.Errorf("a missing bus gave %q", got)
	}
}
