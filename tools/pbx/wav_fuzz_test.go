package pbx

import (
	"testing"
	"time"
)

// FuzzDecodeWAV: any bytes either fail or give samples that encode back to
// a file that decodes to the same samples.
func FuzzDecodeWAV(f *testing.F) {
	f.Add(encodeWAV(toneSamples(1000, 20*time.Millisecond)))
	f.Add(encodeWAV(nil))
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff\x01\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeWAV(b)
		if err != nil {
			return
		}
		s2, err := DecodeWAV(encodeWAV(s))
		if err != nil || len(s2) != len(s) {
			t.Fatalf("round trip: %d samples -> %d, %v", len(s), len(s2), err)
		}
		for i := range s {
			if s[i] != s2[i] {
				t.Fatalf("sample %d: %d -> %d", i, s[i], s2[i])
			}
		}
	})
}
