package version

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a release number, MAJOR.MINOR.PATCH (1 to 4 numbers), as
// images carry it; Compare orders them.
type Version []uint32

// Parse reads "1.2.3": 1 to 4 decimal numbers, dots between.
func Parse(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return nil, fmt.Errorf("version %q: at most 4 numbers", s)
	}
	v := make(Version, len(parts))
	for i, p := range parts {
		if p == "" || len(p) > 9 || strings.TrimLeft(p, "0123456789") != "" {
			return nil, fmt.Errorf("version %q: want numbers with dots (1.2.3)", s)
		}
		n, _ := strconv.ParseUint(p, 10, 32)
		v[i] = uint32(n)
	}
	return v, nil
}

// Compare returns -1, 0 or 1 as v is older than, the same as or newer
// than w; missing numbers count as 0 (1.2 = 1.2.0).
func (v Version) Compare(w Version) int {
	for i := range max(len(v), len(w)) {
		var a, b uint32
		if i < len(v) {
			a = v[i]
		}
		if i < len(w) {
			b = w[i]
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
	}
	return 0
}
