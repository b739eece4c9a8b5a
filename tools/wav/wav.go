// Package wav reads and writes the WAV files the tools trade in: RIFF
// WAVE, PCM, 16 bits. Encode writes the 44-byte canonical header, mono;
// Decode reads any chunk order (sndfile's, the PBX's), takes the first
// channel of a multi-channel file and runs a data chunk whose size was
// never filled in (a writer that was killed, sndfile streaming) to the end
// of the file. Writer streams a file whose sizes are set when it is
// closed. The development PBX's mailboxes, the terminal panel's -mic and
// -record and baresip's dumps all go through here.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Encode returns mono samples at rate as a WAV file.
func Encode(samples []int16, rate int) []byte {
	b := header(rate, 2*len(samples))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// header is the 44-byte canonical header of a mono 16-bit file of data
// bytes.
func header(rate, data int) []byte {
	b := make([]byte, 44, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)  // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2)) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)              // block align
	binary.LittleEndian.PutUint16(b[34:], 16)             // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	return b
}

// Decode reads a 16-bit PCM WAV file and returns its first channel and
// its sample rate.
func Decode(b []byte) (samples []int16, rate int, err error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("wav: not a RIFF WAVE file")
	}
	channels := 0
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 {
				return nil, 0, errors.New("wav: fmt chunk too short")
			}
			format := binary.LittleEndian.Uint16(body[0:])
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits := binary.LittleEndian.Uint16(body[14:])
			if format != 1 || bits != 16 || channels < 1 || rate < 1 {
				return nil, 0, fmt.Errorf("wav: format %d, %d channels, %d Hz, %d bits; want 16-bit PCM", format, channels, rate, bits)
			}
		case "data":
			if channels == 0 {
				return nil, 0, errors.New("wav: data before fmt")
			}
			if size == 0 || size > len(body) {
				size = len(body) // never filled in, or cut short
			}
			frame := 2 * channels
			samples = make([]int16, 0, size/frame)
			for i := 0; i+frame <= size; i += frame {
				samples = append(samples, int16(binary.LittleEndian.Uint16(body[i:])))
			}
			return samples, rate, nil
		}
		if size > len(body) {
			break
		}
		off += 8 + size + size&1
	}
	return nil, 0, errors.New("wav: no data chunk")
}

// Read reads the WAV file at path (Decode).
func Read(path string) ([]int16, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("wav: %w", err)
	}
	s, rate, err := Decode(b)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s", err, path)
	}
	return s, rate, nil
}

// Writer streams mono 16-bit samples into a WAV file.
type Writer struct {
	f    *os.File
	rate int
	n    int // data bytes written
	buf  []byte
}

// Create starts a WAV file at path.
func Create(path string, rate int) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	w := &Writer{f: f, rate: rate}
	if _, err := f.Write(header(rate, 0)); err != nil {
		f.Close()
		return nil, fmt.Errorf("wav: %w", err)
	}
	return w, nil
}

// Write appends samples.
func (w *Writer) Write(s []int16) error {
	w.buf = w.buf[:0]
	for _, v := range s {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(v))
	}
	n, err := w.f.Write(w.buf)
	w.n += n
	if err != nil {
		return fmt.Errorf("wav: %w", err)
	}
	return nil
}

// Close sets the header's sizes and closes the file.
func (w *Writer) Close() error {
	h := header(w.rate, w.n)
	_, err := w.f.WriteAt(h, 0)
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wav: %w", err)
	}
	return nil
}

var _ io.Closer = (*Writer)(nil)
