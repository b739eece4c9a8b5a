package wm8960

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

// w is one expected register write, as the two bytes on the wire.
func w(reg uint8, val uint16) i2ctest.IO {
	return i2ctest.IO{Addr: DefaultAddr, W: []byte{reg<<1 | byte(val>>8), byte(val)}}
}

// initSequence is the datasheet's order, register by register.
var initSequence = []i2ctest.IO{
	w(0x0f, 0x000), // reset
	w(0x19, 0x0c0), // VMID 2x50k, VREF
	// 8 kHz from 24 MHz: PLL prescale /2, N = 8, K = 0x3126e9 (f2 = 98.304 MHz)
	w(0x34, 0x038), w(0x35, 0x031), w(0x36, 0x026), w(0x37, 0x0e9),
	w(0x04, 0x1b5),                 // ADCDIV = DACDIV = 6, SYSCLKDIV = 2, PLL
	w(0x08, 0x1cc),                 // DCLKDIV = 16, BCLKDIV = 24
	w(0x1b, 0x005),                 // ALC at 8 kHz
	w(0x07, 0x042),                 // master, I2S, 16-bit
	w(0x09, 0x040),                 // shared LRCLK
	w(0x19, 0x0fe),                 // + AINL/R, ADCL/R, MICB
	w(0x1a, 0x1f9),                 // DACL/R, LOUT1, ROUT1, SPKL/R, PLL
	w(0x2f, 0x03c),                 // LMIC, RMIC, LOMIX, ROMIX
	w(0x20, 0x108), w(0x21, 0x108), // LINPUT1 -> PGA -> boost
	w(0x15, 0x0c3), w(0x16, 0x1c3), // ADC 0 dB
	w(0x22, 0x100), w(0x25, 0x100), // DAC -> output mixers
	w(0x0a, 0x0ff), w(0x0b, 0x1ff), // DAC 0 dB
	w(0x31, 0x0f7), // both speaker outputs
	// volume 80 %: 0x30 + 58 = 0x6a (-15 dB)
	w(0x02, 0x06a), w(0x03, 0x16a), w(0x28, 0x06a), w(0x29, 0x16a),
	// microphone +20 dB: boost 20 dB, PGA 0 dB
	w(0x20, 0x128), w(0x21, 0x128), w(0x00, 0x017), w(0x01, 0x117),
	w(0x05, 0x000), // DAC unmuted
}

func noSleep(time.Duration) {}

func TestInitSequence(t *testing.T) {
	rec := &i2ctest.Record{}
	var slept time.Duration
	d := New(rec, DefaultAddr, Options{Sleep: func(t time.Duration) { slept += t }})
	if err := d.Init(); err != nil {
		t.Fatal(err)
	}
	if slept < 50*time.Millisecond {
		t.Errorf("VMID settling %v", slept)
	}
	if len(rec.Ops) != len(initSequence) {
		t.Fatalf("%d writes, want %d:\n%s", len(rec.Ops), len(initSequence), dump(rec.Ops))
	}
	for i, op := range rec.Ops {
		want := initSequence[i]
		if op.Addr != want.Addr || string(op.W) != string(want.W) || len(op.R) != 0 {
			t.Errorf("write %d: %s, want %s", i, one(op), one(want))
		}
	}
	// The same sequence plays back without a surprise.
	pb := &i2ctest.Playback{Ops: initSequence, DontPanic: true}
	if err := New(pb, DefaultAddr, Options{Sleep: noSleep}).Init(); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func one(op i2ctest.IO) string {
	if len(op.W) != 2 {
		return fmt.Sprintf("%#x %x", op.Addr, op.W)
	}
	return fmt.Sprintf("R%#02x=%#03x", op.W[0]>>1, uint16(op.W[0]&1)<<8|uint16(op.W[1]))
}

func dump(ops []i2ctest.IO) string {
	var b strings.Builder
	for _, op := range ops {
		b.WriteString(one(op) + "\n")
	}
	return b.String()
}

func TestControls(t *testing.T) {
	tests := []struct {
		name string
		do   func(d *Dev) error
		want []i2ctest.IO
	}{
		{"16 kHz", func(d *Dev) error { return d.SetRate(16000) }, []i2ctest.IO{
			w(0x34, 0x038), w(0x35, 0x031), w(0x36, 0x026), w(0x37, 0x0e9),
			w(0x04, 0x0dd), w(0x08, 0x1c9), w(0x1b, 0x003)}},
		{"48 kHz", func(d *Dev) error { return d.SetRate(48000) }, []i2ctest.IO{
			w(0x34, 0x038), w(0x35, 0x031), w(0x36, 0x026), w(0x37, 0x0e9),
			w(0x04, 0x005), w(0x08, 0x1c4), w(0x1b, 0x000)}},
		{"volume 0 mutes", func(d *Dev) error { return d.SetVolume(0) }, []i2ctest.IO{
			w(0x02, 0x02f), w(0x03, 0x12f), w(0x28, 0x02f), w(0x29, 0x12f)}},
		{"volume 100 is 0 dB", func(d *Dev) error { return d.SetVolume(100) }, []i2ctest.IO{
			w(0x02, 0x079), w(0x03, 0x179), w(0x28, 0x079), w(0x29, 0x179)}},
		{"mute", func(d *Dev) error { return d.SetMute(true) }, []i2ctest.IO{w(0x05, 0x008)}},
		{"unmute", func(d *Dev) error { return d.SetMute(false) }, []i2ctest.IO{w(0x05, 0x000)}},
		{"mic 0 dB", func(d *Dev) error { return d.SetMicGain(0) }, []i2ctest.IO{
			w(0x20, 0x108), w(0x21, 0x108), w(0x00, 0x017), w(0x01, 0x117)}},
		{"mic +59 dB", func(d *Dev) error { return d.SetMicGain(59) }, []i2ctest.IO{
			w(0x20, 0x138), w(0x21, 0x138), w(0x00, 0x03f), w(0x01, 0x13f)}},
		{"power down", func(d *Dev) error { return d.PowerDown() }, []i2ctest.IO{
			w(0x05, 0x008), w(0x1a, 0x000), w(0x2f, 0x000), w(0x19, 0x140)}},
		{"rate 44100", func(d *Dev) error { return d.SetRate(44100) }, nil},
		{"volume 101", func(d *Dev) error { return d.SetVolume(101) }, nil},
		{"mic -18 dB", func(d *Dev) error { return d.SetMicGain(-18) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb := &i2ctest.Playback{Ops: tt.want, DontPanic: true}
			err := tt.do(New(pb, DefaultAddr, Options{Sleep: noSleep}))
			if (err != nil) != (tt.want == nil) {
				t.Fatalf("err = %v", err)
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBusErrorIsWrapped(t *testing.T) {
	pb := &i2ctest.Playback{Ops: initSequence[:3], DontPanic: true}
	err := New(pb, DefaultAddr, Options{Sleep: noSleep}).Init()
	if err == nil || !strings.HasPrefix(err.Error(), "wm8960: register 0x35") {
		t.Fatalf("err = %v", err)
	}
}

func TestPLLFactors(t *testing.T) {
	tests := []struct {
		mclk int
		pre  bool
		n    int
		k    uint32
		bad  bool
	}{
		{24_000_000, true, 8, 0x3126e9, false},
		{12_000_000, false, 8, 0x3126e9, false},
		{12_288_000, false, 8, 0, false},
		{24_576_000, true, 8, 0, false},
		{1_000_000, false, 0, 0, true},
	}
	for _, tt := range tests {
		pre, n, k, err := PLLFactors(tt.mclk)
		if (err != nil) != tt.bad || pre != tt.pre || n != tt.n || k != tt.k {
			t.Errorf("PLLFactors(%d) = %v %d %#x %v", tt.mclk, pre, n, k, err)
		}
	}
}

func TestMicGain(t *testing.T) {
	tests := []struct {
		db          int
		boost, code uint16
	}{{-17, 0, 0x00}, {0, 0, 0x17}, {12, 0, 0x27}, {13, 1, 0x17}, {20, 2, 0x17}, {28, 2, 0x22}, {29, 3, 0x17}, {59, 3, 0x3f}}
	for _, tt := range tests {
		if b, c := MicGain(tt.db); b != tt.boost || c != tt.code {
			t.Errorf("MicGain(%d) = %d, %#x; want %d, %#x", tt.db, b, c, tt.boost, tt.code)
		}
	}
}

func BenchmarkSetVolume(b *testing.B) {
	d := New(&i2ctest.Record{}, DefaultAddr, Options{Sleep: noSleep})
	for b.Loop() {
		d.SetVolume(50)
		d.dev.Bus.(*i2ctest.Record).Ops = nil
	}
}
