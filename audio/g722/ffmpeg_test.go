package g722

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestFFmpeg checks the codec against an independent implementation,
// ffmpeg's G.722: our encoder's octets decoded by ffmpeg, and ffmpeg's
// encoder's octets decoded by ours, against the source (overall and
// segmental SNR; see snr), over the speech-like signals and the tones.
// It also counts the octets where the two encoders differ and the samples
// where the two decoders differ: both follow the Recommendation, so both
// counts are expected to be 0.
func TestFFmpeg(t *testing.T) {
	ffmpeg := testtool.Need(t, "ffmpeg")
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(ffmpeg, append([]string{"-nostdin", "-y", "-loglevel", "error"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	for _, s := range signals {
		in := s.gen(32000) // 2 s
		raw := filepath.Join(dir, s.name+".raw")
		writePCM(t, raw, in)

		// ffmpeg encodes; we decode.
		ffCode := filepath.Join(dir, s.name+".ff.g722")
		run("-f", "s16le", "-ar", "16000", "-ac", "1", "-i", raw, "-c:a", "g722", "-f", "g722", ffCode)
		theirs, err := os.ReadFile(ffCode)
		if err != nil {
			t.Fatal(err)
		}
		ours := make([]byte, len(in)/2)
		NewEncoder().Encode(ours, in)
		if len(theirs) != len(ours) {
			t.Fatalf("%s: ffmpeg coded %d octets, we %d", s.name, len(theirs), len(ours))
		}
		diff := 0
		for i := range ours {
			if ours[i] != theirs[i] {
				diff++
			}
		}
		out := make([]int16, len(in))
		NewDecoder().Decode(out, theirs)
		o1, s1 := snr(in, out, codecDelay)

		// We encode; ffmpeg decodes.
		ourCode := filepath.Join(dir, s.name+".our.g722")
		if err := os.WriteFile(ourCode, ours, 0o644); err != nil {
			t.Fatal(err)
		}
		ffOut := filepath.Join(dir, s.name+".ff.raw")
		run("-f", "g722", "-i", ourCode, "-f", "s16le", "-ar", "16000", "-ac", "1", ffOut)
		dec := readPCM(t, ffOut)
		o2, s2 := snr(in, dec, codecDelay)

		// Both decoders on the same octets.
		ddiff := 0
		mine := make([]int16, len(in))
		NewDecoder().Decode(mine, ours)
		if len(dec) != len(mine) {
			t.Errorf("%s: ffmpeg decoded %d samples, we %d", s.name, len(dec), len(mine))
		}
		for i := range min(len(dec), len(mine)) {
			if dec[i] != mine[i] {
				ddiff++
			}
		}
		t.Logf("%-6s ffmpeg->ours SNR %5.1f dB (segmental %5.1f); ours->ffmpeg %5.1f dB (segmental %5.1f); "+
			"encoders differ in %d of %d octets, decoders in %d samples",
			s.name, o1, s1, o2, s2, diff, len(ours), ddiff)
		for _, v := range []float64{o1, o2} {
			if v < minSNR(s.name) {
				t.Errorf("%s: SNR %.1f dB below %.0f dB", s.name, v, minSNR(s.name))
			}
		}
		if diff != 0 || ddiff != 0 {
			t.Errorf("%s: not bit-exact with ffmpeg: %d octets, %d samples differ", s.name, diff, ddiff)
		}
	}
}

func writePCM(t *testing.T, path string, s []int16) {
	t.Helper()
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readPCM(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}
