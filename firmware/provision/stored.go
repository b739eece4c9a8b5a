package provision

import (
	"encoding/binary"
	"errors"
	"time"
)

// Files is one set of configuration files as fetched: the common file and
// the phone's own, by name; a file that was not there is nil.
type Files struct {
	CommonName string
	Common     []byte
	OwnName    string
	Own        []byte
	From       string    // where they came from, for messages
	Fetched    time.Time // when
}

const storedMagic = "DPCF1"

// marshal encodes Files for storage: magic, then for each of CommonName,
// Common, OwnName, Own, From a uvarint length and the bytes (length 0 with
// a flag for a missing file), then the fetch time in Unix nanoseconds.
func (f Files) marshal() []byte {
	b := []byte(storedMagic)
	str := func(s []byte, present bool) {
		if !present {
			b = binary.AppendUvarint(b, 0)
			return
		}
		b = binary.AppendUvarint(b, uint64(len(s))+1)
		b = append(b, s...)
	}
	str([]byte(f.CommonName), true)
	str(f.Common, f.Common != nil)
	str([]byte(f.OwnName), true)
	str(f.Own, f.Own != nil)
	str([]byte(f.From), true)
	return binary.AppendVarint(b, f.Fetched.UnixNano())
}

var errStored = errors.New("provision: stored configuration is malformed")

func unmarshalFiles(b []byte) (Files, error) {
	if len(b) < len(storedMagic) || string(b[:len(storedMagic)]) != storedMagic {
		return Files{}, errStored
	}
	b = b[len(storedMagic):]
	bad := false
	str := func() []byte {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k)+1 {
			bad = true
			return nil
		}
		b = b[k:]
		if n == 0 {
			return nil
		}
		s := append([]byte{}, b[:n-1]...)
		b = b[n-1:]
		return s
	}
	var f Files
	f.CommonName = string(str())
	f.Common = str()
	f.OwnName = string(str())
	f.Own = str()
	f.From = string(str())
	ns, k := binary.Varint(b)
	if bad || k <= 0 || k != len(b) {
		return Files{}, errStored
	}
	f.Fetched = time.Unix(0, ns)
	return f, nil
}
