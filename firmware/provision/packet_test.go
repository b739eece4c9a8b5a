package provision

import (
	"bytes"
	"reflect"
	"testing"
)

func TestParsePacket(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want packet
		err  bool
	}{
		{"rrq", []byte("\x00\x01phone.cfg\x00OCTET\x00blksize\x001428\x00TSize\x000\x00"),
			packet{op: opRRQ, file: "phone.cfg", mode: "octet", opts: []option{{"blksize", "1428"}, {"tsize", "0"}}}, false},
		{"wrq", []byte("\x00\x02f\x00netascii\x00"), packet{op: opWRQ, file: "f", mode: "netascii"}, false},
		{"data", []byte("\x00\x03\x00\x07abc"), packet{op: opDATA, block: 7, data: []byte("abc")}, false},
		{"empty data", []byte("\x00\x03\xff\xff"), packet{op: opDATA, block: 65535, data: []byte{}}, false},
		{"ack", []byte("\x00\x04\x01\x00"), packet{op: opACK, block: 256}, false},
		{"error", []byte("\x00\x05\x00\x01File not found\x00"), packet{op: opERROR, code: 1, msg: "File not found"}, false},
		{"error empty msg", []byte("\x00\x05\x00\x00\x00"), packet{op: opERROR}, false},
		{"oack", []byte("\x00\x06blksize\x00512\x00"), packet{op: opOACK, opts: []option{{"blksize", "512"}}}, false},
		{"short", []byte("\x00"), packet{}, true},
		{"unknown op", []byte("\x00\x09"), packet{}, true},
		{"rrq unterminated", []byte("\x00\x01phone.cfg\x00octet"), packet{}, true},
		{"rrq no mode", []byte("\x00\x01phone.cfg\x00"), packet{}, true},
		{"rrq empty name", []byte("\x00\x01\x00octet\x00"), packet{}, true},
		{"rrq odd option", []byte("\x00\x01f\x00octet\x00blksize\x00"), packet{}, true},
		{"data short", []byte("\x00\x03\x00"), packet{}, true},
		{"ack long", []byte("\x00\x04\x00\x01\x00"), packet{}, true},
		{"error unterminated", []byte("\x00\x05\x00\x01oops"), packet{}, true},
		{"oack empty", []byte("\x00\x06"), packet{}, true},
		{"oack empty name", []byte("\x00\x06\x00x\x00"), packet{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePacket(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func encode(p packet) []byte {
	switch p.op {
	case opRRQ, opWRQ:
		return appendRequest(nil, p.op, p.file, p.mode, p.opts)
	case opDATA:
		return appendDATA(nil, p.block, p.data)
	case opACK:
		return appendACK(nil, p.block)
	case opERROR:
		return appendERROR(nil, p.code, p.msg)
	case opOACK:
		return appendOACK(nil, p.opts)
	}
	return nil
}

func FuzzParsePacket(f *testing.F) {
	f.Add([]byte("\x00\x01phone.cfg\x00octet\x00blksize\x001428\x00tsize\x000\x00"))
	f.Add([]byte("\x00\x03\x00\x01hello"))
	f.Add([]byte("\x00\x05\x00\x01File not found\x00"))
	f.Add([]byte("\x00\x06tsize\x00100\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePacket(b)
		if err != nil {
			return
		}
		// What parses encodes and parses back to the same packet.
		enc := encode(p)
		q, err := parsePacket(enc)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", enc, err)
		}
		if p.data != nil && !bytes.Equal(p.data, q.data) || !reflect.DeepEqual(p.opts, q.opts) ||
			p.op != q.op || p.block != q.block || p.code != q.code || p.msg != q.msg || p.file != q.file || p.mode != q.mode {
			t.Fatalf("round trip %+v -> %+v", p, q)
		}
	})
}
