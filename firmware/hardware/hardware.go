package hardware

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/hal"
	"github.com/deskphone/deskphone/hal/alsa"
	"github.com/deskphone/deskphone/hal/gpiohost"
	"github.com/deskphone/deskphone/hal/hook"
	"github.com/deskphone/deskphone/hal/keypad"
	"github.com/deskphone/deskphone/hal/ringer"
	"github.com/deskphone/deskphone/hal/wm8960"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// Parts hands out the board's pins and buses. Host, the default, takes
// them from periph's host drivers; tests pass fakes.
type Parts interface {
	Init() (string, error) // a report of what the host drivers did
	Pin(chip string, n boards.GPIO, pwm bool) (gpio.PinIO, error)
	I2C(bus int) (i2c.Bus, error)
	// SoundCard checks that the PCM devices exist and take the phone's
	// samples (cfg at 16 kHz, else at 8 kHz), says which device nodes they
	// are, and returns the rate they take.
	SoundCard(cfg alsa.Config) (string, int, error)
}

// Host is Parts on a real board, through hal/gpiohost.
type Host struct{}

func (Host) Init() (string, error) {
	r, err := gpiohost.Init()
	return r.String(), err
}

func (Host) Pin(chip string, n boards.GPIO, pwm bool) (gpio.PinIO, error) {
	return gpiohost.Pin(chip, int(n), pwm)
}

func (Host) I2C(bus int) (i2c.Bus, error) { return gpiohost.I2C(bus) }

// SoundCard looks the devices up in /proc/asound/cards and /dev/snd, then
// opens both with the phone's parameters (8 kHz, cfg's channels and period,
// 16-bit) and closes them again: the kernel's hw_params says whether the
// card takes them, before a call needs it to. Nothing is started, so the
// codec need not be clocking yet. The kernel registers the card once the
// I2S controller and both stub codecs have probed, which can trail the
// module loading by a moment: it waits up to cardWait for it.
func (Host) SoundCard(cfg alsa.Config) (string, int, error) {
	deadline := time.Now().Add(cardWait)
	var desc string
	for {
		cards, err := os.ReadFile("/proc/asound/cards")
		if err != nil {
			err = fmt.Errorf("hardware: no sound cards: %w", err)
		} else if desc, err = soundCard(cfg.Playback, cfg.Capture, cards, statErr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return "", 0, err
		}
		time.Sleep(50 * time.Millisecond)
	}
	// 16 kHz (wideband, G.722's rate) if the card takes it, else 8 kHz.
	pcm := alsa.New(cfg)
	rate := 16000
	err := pcm.Open(rate, rate*20/1000)
	if err != nil {
		rate = 8000
		err = pcm.Open(rate, rate*20/1000)
	}
	if err != nil {
		return "", 0, fmt.Errorf("hardware: %s: the card does not take the phone's samples: %w", desc, err)
	}
	st := pcm.Stats()
	if err := pcm.Close(); err != nil {
		return "", 0, fmt.Errorf("hardware: %s: %w", desc, err)
	}
	return fmt.Sprintf("%s; takes %d Hz, %d channel(s), period %d frames, buffer %d", desc, rate, max(cfg.Channels, 1), st.PeriodSize, st.BufferSize), rate, nil
}

const cardWait = 5 * time.Second

func statErr(p string) error { _, err := os.Stat(p); return err }

// i2cNode is the device-tree node of I2C bus n ("/soc/i2c@7e804000"), read
// from its of_node link under sysDevices; "" when there is none (no such
// bus, or no device tree). It shows a person which controller the codec
// is set up through.
func i2cNode(sysDevices string, n int) string {
	target, err := os.Readlink(filepath.Join(sysDevices, fmt.Sprintf("i2c-%d", n), "of_node"))
	if err != nil {
		return ""
	}
	_, node, ok := strings.Cut(filepath.ToSlash(target), "/devicetree/base")
	if !ok || node == "" {
		return ""
	}
	return node
}

// soundCard resolves both PCM names against /proc/asound/cards and checks
// their device nodes with stat.
func soundCard(playback, capture string, procCards []byte, stat func(string) error) (string, error) {
	var nodes [2]string
	for i, name := range []string{playback, capture} {
		d, err := alsa.ParseDevice(name)
		if err != nil {
			return "", err
		}
		n, err := alsa.CardIndex(d.Card, procCards)
		if err != nil {
			have := strings.TrimSpace(string(procCards))
			if have == "" || have == "--- no soundcards ---" {
				have = "none"
			}
			return "", fmt.Errorf("%w (the kernel's cards: %s)", err, strings.Join(strings.Fields(have), " "))
		}
		nodes[i] = d.Path(n, i == 1)
		if err := stat(nodes[i]); err != nil {
			return "", fmt.Errorf("hardware: %s: %w", name, err)
		}
	}
	return fmt.Sprintf("playback %s (%s), capture %s (%s)", playback, nodes[0], capture, nodes[1]), nil
}

// Options tune New.
type Options struct {
	Logf  func(format string, args ...any)
	Parts Parts // nil: Host
	// Keypad and Hook tune the drivers (zero: their defaults).
	Keypad keypad.Options
	Hook   hook.Options
	// Codec tunes the WM8960 (MCLK comes from the board).
	Codec wm8960.Options
	// PCM replaces the board's ALSA devices (tests, other cards).
	PCM *alsa.Config
}

// HAL is a hardware board's hal. It is a hal.Input and a hal.Observer;
// Codec returns its hal.Codec.
type HAL struct {
	board boards.Board
	opts  Options
	logf  func(string, ...any)

	keypad *keypad.Matrix
	hook   *hook.Switch
	ringer *ringer.Ringer
	lamp   gpio.PinOut
	codec  *Codec

	events chan hal.Event
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks that b is a hardware board this package can drive. It
// touches no hardware.
func New(b boards.Board, o Options) (*HAL, error) {
	if b.Panel || b.Wiring == nil || b.Audio == nil {
		return nil, fmt.Errorf("hardware: board %s has the virtual panel (hal/panel) as its hal", b.Name)
	}
	if b.Audio.Codec != "wm8960" {
		return nil, fmt.Errorf("hardware: board %s: no driver for codec %q", b.Name, b.Audio.Codec)
	}
	if _, ok := ringer.CadenceOf(b.Wiring.Country); !ok && b.Wiring.Country != "" {
		return nil, fmt.Errorf("hardware: board %s: no ring cadence for country %q", b.Name, b.Wiring.Country)
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Parts == nil {
		o.Parts = Host{}
	}
	return &HAL{board: b, opts: o, logf: o.Logf, events: make(chan hal.Event, 32)}, nil
}

// Start opens and initialises every part and starts the scanners. It logs
// each part as loaded or failed, and fails only if none works.
func (h *HAL) Start(ctx context.Context) error {
	rep, err := h.opts.Parts.Init()
	if err != nil {
		return fmt.Errorf("hardware: host drivers: %w", err)
	}
	h.logf("hardware: host drivers: %s", rep)
	ctx, h.cancel = context.WithCancel(ctx)
	w, a := h.board.Wiring, h.board.Audio
	var failed []error
	part := func(name string, err error) {
		if err != nil {
			h.logf("hardware: %s failed: %v", name, err)
			failed = append(failed, err)
			return
		}
		h.logf("hardware: %s loaded", name)
	}

	part(fmt.Sprintf("keypad %dx%d", len(w.KeypadCols), len(w.KeypadRows)), h.startKeypad(ctx))
	part("hookswitch on "+w.Hook.String(), h.startHook(ctx))
	part("ringer on "+w.Ringer.String(), h.startRinger(ctx))
	part("message lamp on "+w.MWILamp.String(), h.startLamp())
	part(fmt.Sprintf("%s codec at %#x on I2C bus %d, PCM %s and %s", a.Codec, a.CodecAddr, a.I2CBus, a.ALSAPlayback, a.ALSACapture), h.startCodec())
	if len(failed) == 5 {
		h.Close()
		return fmt.Errorf("hardware: board %s: nothing works: %w", h.board.Name, errors.Join(failed...))
	}
	return nil
}

func (h *HAL) pins(ns []boards.GPIO) ([]gpio.PinIO, error) {
	var ps []gpio.PinIO
	for _, n := range ns {
		p, err := h.opts.Parts.Pin(h.board.Wiring.GPIOChip, n, false)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func (h *HAL) startKeypad(ctx context.Context) error {
	w := h.board.Wiring
	rows, err := h.pins(w.KeypadRows)
	if err != nil {
		return err
	}
	cp, err := h.pins(w.KeypadCols)
	if err != nil {
		return err
	}
	cols := make([]gpio.PinIn, len(cp))
	for i, p := range cp {
		cols[i] = p
	}
	m, err := keypad.New(rows, cols, w.Keys, h.opts.Keypad)
	if err != nil {
		return err
	}
	if err := m.Init(); err != nil {
		return err
	}
	h.keypad = m
	h.goRun(ctx, "keypad", m.Run)
	h.goRun(ctx, "keys", func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case e := <-m.KeyEvents():
				switch {
				case e.Long:
					h.logf("hardware: key %s held", e.Key)
				case e.Down:
					h.send(ctx, hal.Event{Kind: hal.KeyPress, Key: e.Key})
				}
			}
		}
	})
	return nil
}

func (h *HAL) startHook(ctx context.Context) error {
	w := h.board.Wiring
	p, err := h.opts.Parts.Pin(w.GPIOChip, w.Hook, false)
	if err != nil {
		return err
	}
	o := h.opts.Hook
	o.OffHookHigh = w.HookOffHigh
	s := hook.New(p, o)
	if err := s.Init(); err != nil {
		return err
	}
	h.hook = s
	if s.OffHook() {
		h.send(ctx, hal.Event{Kind: hal.HookOff})
	}
	h.goRun(ctx, "hookswitch", s.Run)
	h.goRun(ctx, "hook", func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case off := <-s.Changes():
				k := hal.HookOn
				if off {
					k = hal.HookOff
				}
				h.send(ctx, hal.Event{Kind: k})
			}
		}
	})
	return nil
}

func (h *HAL) startRinger(ctx context.Context) error {
	w := h.board.Wiring
	p, err := h.opts.Parts.Pin(w.GPIOChip, w.Ringer, w.RingerPWM)
	if err != nil {
		return err
	}
	r, err := ringer.New(p, ringer.Options{Country: w.Country, PWM: w.RingerPWM})
	if err != nil {
		return err
	}
	if err := r.Init(); err != nil {
		return err
	}
	h.ringer = r
	h.goRun(ctx, "ringer", r.Run)
	return nil
}

func (h *HAL) startLamp() error {
	w := h.board.Wiring
	p, err := h.opts.Parts.Pin(w.GPIOChip, w.MWILamp, false)
	if err != nil {
		return err
	}
	if err := p.Out(gpio.Low); err != nil {
		return fmt.Errorf("hardware: lamp: %w", err)
	}
	h.lamp = p
	return nil
}

func (h *HAL) startCodec() error {
	a := h.board.Audio
	cfg := alsa.Config{Playback: a.ALSAPlayback, Capture: a.ALSACapture, Channels: a.Channels, PeriodMs: a.PeriodMs}
	if h.opts.PCM != nil {
		cfg = *h.opts.PCM
	}
	// The sound card first: without it the codec has nowhere to send
	// samples, and its absence (a missing module or device tree) is the
	// likelier fault.
	card, rate, err := h.opts.Parts.SoundCard(cfg)
	if err != nil {
		return err
	}
	h.logf("hardware: sound card: %s", card)
	if node := i2cNode("/sys/bus/i2c/devices", a.I2CBus); node != "" {
		h.logf("hardware: I2C bus %d is %s", a.I2CBus, node)
	}
	bus, err := h.opts.Parts.I2C(a.I2CBus)
	if err != nil {
		return err
	}
	o := h.opts.Codec
	o.MCLK = a.MCLK
	wm := wm8960.New(bus, a.CodecAddr, o)
	if err := wm.Init(); err != nil {
		return err
	}
	h.codec = NewCodec(wm, alsa.New(cfg))
	h.codec.narrow = rate != 16000
	return nil
}

func (h *HAL) goRun(ctx context.Context, name string, run func(context.Context) error) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		if err := run(ctx); err != nil {
			h.logf("hardware: %s stopped: %v", name, err)
		}
	}()
}

func (h *HAL) send(ctx context.Context, e hal.Event) {
	select {
	case h.events <- e:
	case <-ctx.Done():
	}
}

// Events implements hal.Input: key presses (on the press) and hook changes.
func (h *HAL) Events() <-chan hal.Event { return h.events }

// Codec returns the board's codec; nil when it failed to start.
func (h *HAL) Codec() hal.Codec {
	if h.codec == nil {
		return nil
	}
	return h.codec
}

// Close stops the scanners, silences the ringer and closes the codec.
func (h *HAL) Close() error {
	if h.cancel != nil {
		h.cancel()
	}
	h.wg.Wait()
	var err error
	if h.lamp != nil {
		err = h.lamp.Out(gpio.Low)
	}
	if h.codec != nil {
		err = errors.Join(err, h.codec.Close())
	}
	return err
}

// Observer: what a person sees and hears, on this board's parts.

func (h *HAL) Reg(line int, state string) { h.logf("hardware: line %d %s", line, state) }
func (h *HAL) Phone(state string)         { h.logf("hardware: phone %s", state) }
func (h *HAL) Call(id int, state, peer string) {
	h.logf("hardware: call %d %s %s", id, state, peer)
}
func (h *HAL) Tone(name string) {}
func (h *HAL) Log(text string)  { h.logf("hardware: %s", text) }

// Ring drives the ringer with the cadence ("normal": the board's country).
func (h *HAL) Ring(on bool, cadence string) {
	if h.ringer == nil {
		return
	}
	var err error
	if on {
		err = h.ringer.Ring(cadence)
		h.logf("hardware: ringer on %s, cadence %s", h.board.Wiring.Ringer, cadence)
	} else {
		err = h.ringer.Silence()
		h.logf("hardware: ringer off")
	}
	if err != nil {
		h.logf("hardware: %v; ringing with the board's cadence", err)
		h.ringer.Ring("normal")
	}
}

// LED lights the message lamp for "mwi" and "vm"; the reference board has
// no other lamp, so the rest are logged.
func (h *HAL) LED(name, state string) {
	if err := h.Lamp(name, state); err != nil {
		h.logf("hardware: %v", err)
	}
}

// Display logs the row: the reference board has no display.
func (h *HAL) Display(row int, text string) { h.Row(row, text) }

// MWI lights the message lamp while there are new messages.
func (h *HAL) MWI(line, newMsgs, oldMsgs int) {
	st := "off"
	if newMsgs > 0 {
		st = "on"
	}
	h.LED("mwi", st)
}

// Lamp implements hal.Indicators. Blinking is shown as on.
func (h *HAL) Lamp(name, state string) error {
	if name != "mwi" && name != "vm" || h.lamp == nil {
		h.logf("hardware: lamp %s %s", name, state)
		return nil
	}
	l := gpio.Low
	switch strings.ToLower(state) {
	case "on", "blink":
		l = gpio.High
	case "off":
	default:
		return fmt.Errorf("hardware: lamp %s: unknown state %q", name, state)
	}
	return h.lamp.Out(l)
}

// Row implements hal.Indicators.
func (h *HAL) Row(row int, text string) error {
	h.logf("hardware: display %d %q", row, text)
	return nil
}

var (
	_ hal.Input        = (*HAL)(nil)
	_ hal.Observer     = (*HAL)(nil)
	_ hal.Indicators   = (*HAL)(nil)
	_ hal.PCM          = (*Codec)(nil)
	_ hal.CodecControl = (*Codec)(nil)
	_ hal.Wideband     = (*Codec)(nil)
)

// Codec is the WM8960 and its ALSA PCM as one hal.Codec: Open sets the
// codec's clocks for the rate before the PCM opens.
type Codec struct {
	wm     *wm8960.Dev
	pcm    *alsa.PCM
	narrow bool // the card takes 8000 samples/s only
}

// NewCodec joins a codec already initialised (wm.Init) and its PCM.
func NewCodec(wm *wm8960.Dev, pcm *alsa.PCM) *Codec { return &Codec{wm: wm, pcm: pcm} }

// Stats are the PCM's counters.
func (c *Codec) Stats() alsa.Stats { return c.pcm.Stats() }

func (c *Codec) Open(rate, frame int) error {
	if err := c.wm.SetRate(rate); err != nil {
		return err
	}
	return c.pcm.Open(rate, frame)
}

func (c *Codec) Exchange(ear, mic []int16) error { return c.pcm.Exchange(ear, mic) }

// Wideband: the WM8960's clocking (SetRate) and the ALSA PCM take 16000
// samples/s, so the phone runs its handset wideband, unless the sound
// card refused 16000 when the HAL probed it (HAL.Start logs the rate).
func (c *Codec) Wideband() bool { return !c.narrow }

func (c *Codec) Start() error            { return c.pcm.Start() }
func (c *Codec) Stop() error             { return c.pcm.Stop() }
func (c *Codec) SetVolume(p int) error   { return c.wm.SetVolume(p) }
func (c *Codec) SetMute(m bool) error    { return c.wm.SetMute(m) }
func (c *Codec) SetMicGain(db int) error { return c.wm.SetMicGain(db) }

// Close closes the PCM and puts the codec in standby.
func (c *Codec) Close() error { return errors.Join(c.pcm.Close(), c.wm.PowerDown()) }
