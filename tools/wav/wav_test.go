package wav

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	s := []int16{0, 1, -1, 32767, -32768, 1234}
	got, rate, err := Decode(Encode(s, 16000))
	if err != nil || rate != 16000 || !slices.Equal(got, s) {
		t.Fatalf("Decode(Encode) = %v %d %v", got, rate, err)
	}
	path := filepath.Join(t.TempDir(), "x.wav")
	w, err := Create(path, 8000)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(s[:3])
	w.Write(s[3:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, rate, err = Read(path)
	if err != nil || rate != 8000 || !slices.Equal(got, s) {
		t.Fatalf("Read = %v %d %v", got, rate, err)
	}
}

func TestDecodeForms(t *testing.T) {
	// Stereo: the first channel; a data size never filled in: to the end.
	stereo := Encode([]int16{1, 2, 3, 4}, 8000)
	stereo[22] = 2                                              // channels
	stereo[40], stereo[41], stereo[42], stereo[43] = 0, 0, 0, 0 // data size 0
	got, _, err := Decode(stereo)
	if err != nil || !slices.Equal(got, []int16{1, 3}) {
		t.Errorf("stereo, open data: %v %v", got, err)
	}
	for name, b := range map[string][]byte{
		"empty":   nil,
		"8-bit":   func() []byte { b := Encode([]int16{1}, 8000); b[34] = 8; return b }(),
		"no data": Encode(nil, 8000)[:36],
		"not pcm": func() []byte { b := Encode([]int16{1}, 8000); b[20] = 3; return b }(),
	} {
		if _, _, err := Decode(b); err == nil {
			t.Errorf("%s: taken", name)
		}
	}
}

// FuzzDecode: any bytes either fail or give samples that encode back to
// a file that decodes to the same samples.
func FuzzDecode(f *testing.F) {
	f.Add(Encode([]int16{1, -2, 300}, 8000))
	f.Add(Encode(nil, 8000))
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff\x01\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, rate, err := Decode(b)
		if err != nil {
			return
		}
		s2, rate2, err := Decode(Encode(s, rate))
		if err != nil || rate2 != rate || !slices.Equal(s, s2) {
			t.Fatalf("round trip: %d samples at %d -> %d at %d, %v", len(s), rate, len(s2), rate2, err)
		}
	})
}
