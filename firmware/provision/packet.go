package provision

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// TFTP opcodes (RFC 1350 section 5, RFC 2347).
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// TFTP error codes (RFC 1350 appendix, RFC 2347).
const (
	errUndefined   = 0
	errNotFound    = 1
	errAccess      = 2
	errDiskFull    = 3
	errIllegalOp   = 4
	errUnknownTID  = 5
	errOptionsFail = 8
)

// option is one RFC 2347 name/value pair; names are kept lower case.
type option struct{ name, value string }

// packet is one parsed TFTP packet. Data aliases the buffer it was parsed
// from.
type packet struct {
	op    uint16
	block uint16   // DATA, ACK
	data  []byte   // DATA
	code  uint16   // ERROR
	msg   string   // ERROR
	file  string   // RRQ, WRQ
	mode  string   // RRQ, WRQ (lower case)
	opts  []option // RRQ, WRQ, OACK
}

var errShort = errors.New("provision: short packet")

// parsePacket parses one TFTP packet of any kind.
func parsePacket(b []byte) (packet, error) {
	if len(b) < 2 {
		return packet{}, errShort
	}
	p := packet{op: binary.BigEndian.Uint16(b)}
	body := b[2:]
	switch p.op {
	case opRRQ, opWRQ:
		fields, err := splitStrings(body)
		if err != nil {
			return packet{}, err
		}
		if len(fields) < 2 || len(fields)%2 != 0 {
			return packet{}, fmt.Errorf("provision: request has %d fields", len(fields))
		}
		if fields[0] == "" {
			return packet{}, errors.New("provision: request without a file name")
		}
		p.file, p.mode = fields[0], strings.ToLower(fields[1])
		if p.opts, err = pairs(fields[2:]); err != nil {
			return packet{}, err
		}
	case opDATA:
		if len(body) < 2 {
			return packet{}, errShort
		}
		p.block = binary.BigEndian.Uint16(body)
		p.data = body[2:]
	case opACK:
		if len(body) != 2 {
			return packet{}, fmt.Errorf("provision: ACK of %d bytes", len(b))
		}
		p.block = binary.BigEndian.Uint16(body)
	case opERROR:
		if len(body) < 3 {
			return packet{}, errShort
		}
		p.code = binary.BigEndian.Uint16(body)
		msg := body[2:]
		i := bytes.IndexByte(msg, 0)
		if i < 0 {
			return packet{}, errors.New("provision: ERROR message not terminated")
		}
		p.msg = string(msg[:i])
	case opOACK:
		fields, err := splitStrings(body)
		if err != nil {
			return packet{}, err
		}
		if len(fields) == 0 || len(fields)%2 != 0 {
			return packet{}, fmt.Errorf("provision: OACK has %d fields", len(fields))
		}
		if p.opts, err = pairs(fields); err != nil {
			return packet{}, err
		}
	default:
		return packet{}, fmt.Errorf("provision: unknown opcode %d", p.op)
	}
	return p, nil
}

// splitStrings splits NUL-terminated strings; the last must be terminated.
func splitStrings(b []byte) ([]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[len(b)-1] != 0 {
		return nil, errors.New("provision: string not terminated")
	}
	parts := bytes.Split(b[:len(b)-1], []byte{0})
	out := make([]string, len(parts))
	for i, s := range parts {
		out[i] = string(s)
	}
	return out, nil
}

func pairs(f []string) ([]option, error) {
	var out []option
	for i := 0; i+1 < len(f); i += 2 {
		if f[i] == "" {
			return nil, errors.New("provision: empty option name")
		}
		out = append(out, option{strings.ToLower(f[i]), f[i+1]})
	}
	return out, nil
}

func appendRequest(b []byte, op uint16, file, mode string, opts []option) []byte {
	b = binary.BigEndian.AppendUint16(b, op)
	b = append(append(b, file...), 0)
	b = append(append(b, mode...), 0)
	for _, o := range opts {
		b = append(append(b, o.name...), 0)
		b = append(append(b, o.value...), 0)
	}
	return b
}

func appendACK(b []byte, block uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, opACK)
	return binary.BigEndian.AppendUint16(b, block)
}

func appendDATA(b []byte, block uint16, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, opDATA)
	b = binary.BigEndian.AppendUint16(b, block)
	return append(b, data...)
}

func appendERROR(b []byte, code uint16, msg string) []byte {
	b = binary.BigEndian.AppendUint16(b, opERROR)
	b = binary.BigEndian.AppendUint16(b, code)
	return append(append(b, msg...), 0)
}

func appendOACK(b []byte, opts []option) []byte {
	b = binary.BigEndian.AppendUint16(b, opOACK)
	for _, o := range opts {
		b = append(append(b, o.name...), 0)
		b = append(append(b, o.value...), 0)
	}
	return b
}
