package audio

import "testing"

func TestCodec(t *testing.T) {
	tests := []struct {
		name   string
		codec  Codec
		ok     bool
		pt     uint8
		string string
	}{
		{"PCMU", PCMU, true, 0, "PCMU"},
		{"pcmu", PCMU, true, 0, "PCMU"},
		{"PCMA", PCMA, true, 8, "PCMA"},
		{"pcMa", PCMA, true, 8, "PCMA"},
		{"G722", G722, true, 9, "G722"},
		{"g722", G722, true, 9, "G722"},
		{"G729", 0, false, 255, "unknown"},
		{"", 0, false, 255, "unknown"},
	}
	for _, tt := range tests {
		c, ok := CodecByName(tt.name)
		if c != tt.codec || ok != tt.ok {
			t.Errorf("CodecByName(%q) = %v, %v", tt.name, c, ok)
		}
		if c.PayloadType() != tt.pt || c.String() != tt.string {
			t.Errorf("%q: PayloadType %d String %q", tt.name, c.PayloadType(), c.String())
		}
	}
}
