package wm8960

import (
	"fmt"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// Register addresses (datasheet, register map).
const (
	RegLeftInVol   = 0x00
	RegRightInVol  = 0x01
	RegLOUT1Vol    = 0x02
	RegROUT1Vol    = 0x03
	RegClocking1   = 0x04
	RegADCDAC1     = 0x05
	RegAudioIface1 = 0x07
	RegClocking2   = 0x08
	RegAudioIface2 = 0x09
	RegLeftDACVol  = 0x0a
	RegRightDACVol = 0x0b
	RegReset       = 0x0f
	RegLeftADCVol  = 0x15
	RegRightADCVol = 0x16
	RegAddCtl3     = 0x1b
	RegPower1      = 0x19
	RegPower2      = 0x1a
	RegADCLPath    = 0x20
	RegADCRPath    = 0x21
	RegLeftOutMix  = 0x22
	RegRightOutMix = 0x25
	RegLSpkVol     = 0x28
	RegRSpkVol     = 0x29
	RegPower3      = 0x2f
	RegClassD1     = 0x31
	RegPLL1        = 0x34
	RegPLL2        = 0x35
	RegPLL3        = 0x36
	RegPLL4        = 0x37
)

// DefaultAddr is the codec's fixed 7-bit I2C address.
const DefaultAddr = 0x1a

// Options describe the board around the codec.
type Options struct {
	MCLK int // master clock in Hz; 0 means 24 MHz (Waveshare HAT)
	// Sleep waits for the analogue references to settle; nil means
	// time.Sleep. Tests pass a no-op.
	Sleep func(time.Duration)
}

// Dev is one WM8960.
type Dev struct {
	dev  i2c.Dev
	opts Options
	mu   sync.Mutex
}

// New returns a driver for the codec at addr on bus. It does no I/O.
func New(bus i2c.Bus, addr uint16, opts Options) *Dev {
	if opts.MCLK == 0 {
		opts.MCLK = 24_000_000
	}
	if opts.Sleep == nil {
		opts.Sleep = time.Sleep
	}
	return &Dev{dev: i2c.Dev{Bus: bus, Addr: addr}, opts: opts}
}

func (d *Dev) String() string { return fmt.Sprintf("wm8960@%#x", d.dev.Addr) }

// write sets one 9-bit register.
func (d *Dev) write(reg uint8, val uint16) error {
	if err := d.dev.Tx([]byte{reg<<1 | byte(val>>8&1), byte(val)}, nil); err != nil {
		return fmt.Errorf("wm8960: register %#02x = %#03x: %w", reg, val, err)
	}
	return nil
}

type regVal struct {
	reg uint8
	val uint16
}

func (d *Dev) writeAll(rv []regVal) error {
	for _, w := range rv {
		if err := d.write(w.reg, w.val); err != nil {
			return err
		}
	}
	return nil
}

// Power and routing bits.
const (
	pwr1VMID50k = 0x080 // VMIDSEL = 01: 2 x 50 kOhm, playback and record
	pwr1VREF    = 0x040
	pwr1AIN     = 0x030 // AINL, AINR: input PGAs
	pwr1ADC     = 0x00c // ADCL, ADCR
	pwr1MICB    = 0x002 // microphone bias
	pwr2DAC     = 0x180 // DACL, DACR
	pwr2OUT1    = 0x060 // LOUT1, ROUT1: headphone
	pwr2SPK     = 0x018 // SPKL, SPKR (class D PGAs)
	pwr2PLL     = 0x001
	pwr3MIC     = 0x030 // LMIC, RMIC: PGAs
	pwr3OMIX    = 0x00c // LOMIX, ROMIX
	volUpdate   = 0x100 // IPVU, OUT1VU, SPKVU, DACVU, ADCVU: latch both sides
	dacMute     = 0x008 // R5 DACMU
)

// Init resets the codec and powers it up for 8 kHz, with the earpiece and
// speaker at the given default levels (volume 80 %, microphone +20 dB),
// DAC unmuted.
func (d *Dev) Init() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.write(RegReset, 0); err != nil {
		return err
	}
	// References first, then let VMID charge.
	if err := d.write(RegPower1, pwr1VMID50k|pwr1VREF); err != nil {
		return err
	}
	d.opts.Sleep(100 * time.Millisecond)
	if err := d.setRateLocked(8000); err != nil {
		return err
	}
	if err := d.writeAll([]regVal{
		{RegAudioIface1, 0x042}, // MS: codec is the clock master; I2S, 16-bit words
		{RegAudioIface2, 0x040}, // ALRCGPIO: one LRCLK (DACLRC) for ADC and DAC
		{RegPower1, pwr1VMID50k | pwr1VREF | pwr1AIN | pwr1ADC | pwr1MICB},
		{RegPower2, pwr2DAC | pwr2OUT1 | pwr2SPK | pwr2PLL},
		{RegPower3, pwr3MIC | pwr3OMIX},
		// Microphone: INPUT1 to the PGA's inverting input, PGA to the boost mixer.
		{RegADCLPath, 0x108},
		{RegADCRPath, 0x108},
		{RegLeftADCVol, 0x0c3}, // 0 dB
		{RegRightADCVol, volUpdate | 0x0c3},
		// DAC into the output mixers, at 0 dB digital.
		{RegLeftOutMix, 0x100}, // LD2LO
		{RegRightOutMix, 0x100},
		{RegLeftDACVol, 0x0ff},
		{RegRightDACVol, volUpdate | 0x0ff},
		{RegClassD1, 0x0f7}, // SPK_OP_EN: both speaker outputs
	}); err != nil {
		return err
	}
	if err := d.setVolumeLocked(80); err != nil {
		return err
	}
	if err := d.setMicGainLocked(20); err != nil {
		return err
	}
	if err := d.write(RegADCDAC1, 0); err != nil { // DAC unmuted
		return err
	}
	return nil
}

// PowerDown mutes the DAC and powers everything off but the references
// (standby), as the datasheet's power-down order asks.
func (d *Dev) PowerDown() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writeAll([]regVal{
		{RegADCDAC1, dacMute},
		{RegPower2, 0},
		{RegPower3, 0},
		{RegPower1, 0x100 | pwr1VREF}, // VMIDSEL = 10: 2 x 250 kOhm standby
	})
}

// pllTarget is f2 of the datasheet: 4 x 2 x 12.288 MHz, from which
// SYSCLK = f2 / 4 / 2 = 12.288 MHz = 256 x 48 kHz.
const pllTarget = 98_304_000

// PLLFactors returns the PLL's prescale (MCLK divided by 1 or 2), integer
// part N (5-13) and 24-bit fraction K for an MCLK of mclk Hz.
func PLLFactors(mclk int) (prescale2 bool, n int, k uint32, err error) {
	for _, pre := range []int{1, 2} {
		in := float64(mclk) / float64(pre)
		r := pllTarget / in
		if r >= 5 && r < 13 {
			n := int(r)
			k := uint32(math.Round((r - float64(n)) * (1 << 24)))
			return pre == 2, n, k, nil
		}
	}
	return false, 0, 0, fmt.Errorf("wm8960: no PLL setting for MCLK %d Hz", mclk)
}

// rateDiv gives, per sample rate, the ADC/DAC divider code (SYSCLK / 256 /
// div = rate), the BCLK divider code (BCLK = 64 fs) and the ALC rate code.
var rateDiv = map[int]struct{ div, bclk, alc uint16 }{
	8000:  {0b110, 0b1100, 0b101}, // /6, BCLK /24 = 512 kHz
	16000: {0b011, 0b1001, 0b011}, // /3, BCLK /12 = 1.024 MHz
	48000: {0b000, 0b0100, 0b000}, // /1, BCLK /4 = 3.072 MHz
}

// SetRate sets the PLL and dividers for 8000, 16000 or 48000 samples/s.
func (d *Dev) SetRate(rate int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.setRateLocked(rate)
}

func (d *Dev) setRateLocked(rate int) error {
	r, ok := rateDiv[rate]
	if !ok {
		return fmt.Errorf("wm8960: rate %d: want 8000, 16000 or 48000", rate)
	}
	pre, n, k, err := PLLFactors(d.opts.MCLK)
	if err != nil {
		return err
	}
	pll1 := uint16(n)
	if k != 0 {
		pll1 |= 0x020 // SDM: fractional mode
	}
	if pre {
		pll1 |= 0x010 // PLLPRESCALE: MCLK / 2
	}
	return d.writeAll([]regVal{
		{RegPLL1, pll1},
		{RegPLL2, uint16(k >> 16 & 0xff)},
		{RegPLL3, uint16(k >> 8 & 0xff)},
		{RegPLL4, uint16(k & 0xff)},
		// ADCDIV, DACDIV; SYSCLKDIV = 2; CLKSEL = PLL.
		{RegClocking1, r.div<<6 | r.div<<3 | 0b10<<1 | 1},
		// DCLKDIV = 16 (class D clock 768 kHz), BCLKDIV.
		{RegClocking2, 0b111<<6 | r.bclk},
		{RegAddCtl3, r.alc},
	})
}

// SetVolume sets the earpiece (headphone) and speaker volume: 0 mutes
// them, 1-100 spans -72 dB to 0 dB in 1 dB steps.
func (d *Dev) SetVolume(percent int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.setVolumeLocked(percent)
}

func (d *Dev) setVolumeLocked(percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("wm8960: volume %d%%: want 0-100", percent)
	}
	v := uint16(0x2f) // analogue mute
	if percent > 0 {
		v = 0x30 + uint16((percent*(0x79-0x30)+50)/100)
	}
	return d.writeAll([]regVal{
		{RegLOUT1Vol, v}, {RegROUT1Vol, volUpdate | v},
		{RegLSpkVol, v}, {RegRSpkVol, volUpdate | v},
	})
}

// SetMute mutes or unmutes the DAC (soft mute), earpiece and speaker.
func (d *Dev) SetMute(mute bool) error {
	var v uint16
	if mute {
		v = dacMute
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.write(RegADCDAC1, v)
}

// Microphone gain range: the input PGA (-17.25 to +30 dB in 0.75 dB
// steps) after the boost (0, 13, 20 or 29 dB).
const (
	MinMicGain = -17
	MaxMicGain = 59
)

// SetMicGain sets the microphone gain in dB (MinMicGain-MaxMicGain): the
// largest boost not above the gain, the rest in the PGA.
func (d *Dev) SetMicGain(db int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.setMicGainLocked(db)
}

func (d *Dev) setMicGainLocked(db int) error {
	if db < MinMicGain || db > MaxMicGain {
		return fmt.Errorf("wm8960: microphone gain %d dB: want %d to %d", db, MinMicGain, MaxMicGain)
	}
	boost, code := MicGain(db)
	path := uint16(0x108) | boost<<4
	return d.writeAll([]regVal{
		{RegADCLPath, path}, {RegADCRPath, path},
		{RegLeftInVol, code}, {RegRightInVol, volUpdate | code},
	})
}

// MicGain splits db into the boost code (0-3: 0, 13, 20, 29 dB) and the
// PGA volume code (0x00 = -17.25 dB, 0x17 = 0 dB, 0x3f = +30 dB).
func MicGain(db int) (boost, pga uint16) {
	boosts := []int{0, 13, 20, 29}
	for i := len(boosts) - 1; i >= 0; i-- {
		if db >= boosts[i] {
			boost = uint16(i)
			break
		}
	}
	rest := float64(db - boosts[boost])
	c := 0x17 + int(math.Round(rest/0.75))
	return boost, uint16(min(max(c, 0), 0x3f))
}
