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
	From       string    // where they came from (Source.String)
	Fetched    time.Time // when
	// CommonVal and OwnVal are the HTTP validators each file came with,
	// sent back on the next fetch from the same place (If-None-Match,
	// If-Modified-Since).
	CommonVal, OwnVal Validators
	// unchanged counts the files the server said were not modified (304):
	// their bytes are the current ones.
	unchanged int
}

// storedMagic is the format Files are stored in; storedMagicV1, without
// the validators, is still read.
const (
	storedMagic   = "DPCF2"
	storedMagicV1 = "DPCF1"
)

// marshal encodes Files for storage: magic, then for each of CommonName,
// Common, OwnName, Own, From, the common file's ETag and Last-Modified and
// the own file's, a uvarint length and the bytes (length 0 with a flag for
// a missing file), then the fetch time in Unix nanoseconds.
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
	for _, v := range []string{f.CommonVal.ETag, f.CommonVal.LastModified, f.OwnVal.ETag, f.OwnVal.LastModified} {
		str([]byte(v), true)
	}
	return binary.AppendVarint(b, f.Fetched.UnixNano())
}

var errStored = errors.New("provision: stored configuration is malformed")

func unmarshalFiles(b []byte) (Files, error) {
	if len(b) < len(storedMagic) {
		return Files{}, errStored
	}
	v2 := string(b[:len(storedMagic)]) == storedMagic
	if !v2 && string(b[:len(storedMagicV1)]) != storedMagicV1 {
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
	if v2 {
		f.CommonVal.ETag, f.CommonVal.LastModified = string(str()), string(str())
		f.OwnVal.ETag, f.OwnVal.LastModified = string(str()), string(str())
	}
	ns, k := binary.Varint(b)
	if bad || k <= 0 || k != len(b) {
		return Files{}, errStored
	}
	f.Fetched = time.Unix(0, ns)
	return f, nil
}
