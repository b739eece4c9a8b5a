package config

import (
	"errors"
	"fmt"
	"strings"
)

// DigitMap is a parsed dial plan (dialplan.digitmap): patterns in the
// syntax of MGCP digit maps (RFC 3435 section 2.1.5) without timers: digits,
// * and #, x for any digit, [..] for a set of digits with ranges ([2-9],
// [135]), and . for any number (zero or more) of the element before it.
type DigitMap struct{ pats [][]dmElem }

type dmElem struct {
	set  [12]bool // 0-9, * (10), # (11)
	star bool     // the element repeats zero or more times
}

func dmIndex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c == '*':
		return 10
	case c == '#':
		return 11
	}
	return -1
}

// CheckDigitMap reports whether s is a valid digit map ("" is).
func CheckDigitMap(s string) error {
	_, err := ParseDigitMap(s)
	return err
}

// ParseDigitMap parses a digit map; "" gives a map that matches nothing.
func ParseDigitMap(s string) (DigitMap, error) {
	var m DigitMap
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return m, nil
	}
	for _, p := range strings.Split(s, "|") {
		p = strings.TrimSpace(p)
		if p == "" {
			return DigitMap{}, errors.New("empty pattern")
		}
		var pat []dmElem
		for i := 0; i < len(p); i++ {
			c := p[i]
			switch {
			case c == 'x' || c == 'X':
				var e dmElem
				for d := 0; d < 10; d++ {
					e.set[d] = true
				}
				pat = append(pat, e)
			case c == '.':
				if len(pat) == 0 || pat[len(pat)-1].star {
					return DigitMap{}, fmt.Errorf("pattern %q: . must follow a digit, x or [set]", clip(p))
				}
				pat[len(pat)-1].star = true
			case c == '[':
				end := strings.IndexByte(p[i:], ']')
				if end < 0 {
					return DigitMap{}, fmt.Errorf("pattern %q: missing ]", clip(p))
				}
				var e dmElem
				body := p[i+1 : i+end]
				for j := 0; j < len(body); j++ {
					lo := dmIndex(body[j])
					if lo < 0 {
						return DigitMap{}, fmt.Errorf("pattern %q: %q in a set", clip(p), body[j])
					}
					if j+2 < len(body) && body[j+1] == '-' {
						hi := dmIndex(body[j+2])
						if lo > 9 || hi < 0 || hi > 9 || hi < lo {
							return DigitMap{}, fmt.Errorf("pattern %q: bad range %s", clip(p), body[j:j+3])
						}
						for d := lo; d <= hi; d++ {
							e.set[d] = true
						}
						j += 2
						continue
					}
					e.set[lo] = true
				}
				if body == "" {
					return DigitMap{}, fmt.Errorf("pattern %q: empty set", clip(p))
				}
				pat = append(pat, e)
				i += end
			case dmIndex(c) >= 0:
				var e dmElem
				e.set[dmIndex(c)] = true
				pat = append(pat, e)
			default:
				return DigitMap{}, fmt.Errorf("pattern %q: %q is not a digit, *, #, x, [set] or .", clip(p), c)
			}
		}
		m.pats = append(m.pats, pat)
	}
	return m, nil
}

// Empty reports whether the map has no pattern.
func (m DigitMap) Empty() bool { return len(m.pats) == 0 }

// Match says whether digits match a whole pattern (full) and whether more
// digits could still match one (more). full && !more: the number is
// complete and can be sent at once.
func (m DigitMap) Match(digits string) (full, more bool) {
	for _, p := range m.pats {
		f, mo := matchPat(p, digits)
		full = full || f
		more = more || mo
	}
	return full, more
}

// matchPat runs the pattern as an automaton over the digits: the states
// are the positions in the pattern.
func matchPat(p []dmElem, digits string) (full, more bool) {
	cur := make([]bool, len(p)+1)
	next := make([]bool, len(p)+1)
	cur[0] = true
	closeStars(p, cur)
	for i := 0; i < len(digits); i++ {
		d := dmIndex(digits[i])
		clear(next)
		any := false
		for s := 0; s < len(p); s++ {
			if !cur[s] || d < 0 || !p[s].set[d] {
				continue
			}
			any = true
			if p[s].star {
				next[s] = true
			} else {
				next[s+1] = true
			}
		}
		if !any {
			return false, false
		}
		closeStars(p, next)
		cur, next = next, cur
	}
	full = cur[len(p)]
	for s := 0; s < len(p); s++ {
		if cur[s] {
			more = true
		}
	}
	return full, more
}

// closeStars adds the states reached by skipping starred elements.
func closeStars(p []dmElem, st []bool) {
	for s := 0; s < len(p); s++ {
		if st[s] && p[s].star {
			st[s+1] = true
		}
	}
}
