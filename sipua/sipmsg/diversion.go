package sipmsg

import (
	"fmt"
	"strconv"
	"strings"
)

// Retargeting: where a call was meant to go and where it went, as a PBX
// that diverts it says so, in Diversion (RFC 5806, the older way, which
// most PBXs still send) or History-Info (RFC 7044, with the causes of RFC
// 4458 in its URIs).

// Diversion is one Diversion header value (RFC 5806 section 3): the
// number the call was diverted from and why.
type Diversion struct {
	URI     URI
	Reason  string // "user-busy", "no-answer", "unavailable", "unconditional", ...; "" = none
	Counter int    // diversion-counter; 0 = absent
}

// ParseDiversion parses the values of Diversion headers, newest first
// (as each diverting server adds its own at the top, RFC 5806 section 3):
// the last one names the number originally called.
func ParseDiversion(values []string) ([]Diversion, error) {
	var out []Diversion
	for _, v := range values {
		for _, e := range SplitList(v) {
			na, err := ParseNameAddr(e)
			if err != nil {
				return nil, fmt.Errorf("sipmsg: Diversion %q: %w", clip(e), err)
			}
			d := Diversion{URI: na.URI}
			d.Reason, _ = na.Param("reason")
			d.Reason = strings.ToLower(strings.Trim(d.Reason, `"`))
			if c, ok := na.Param("counter"); ok {
				n, err := strconv.Atoi(c)
				if err != nil || n < 0 || n > 1000 {
					return nil, fmt.Errorf("sipmsg: Diversion counter %q: %w", clip(c), ErrMalformed)
				}
				d.Counter = n
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// HistoryEntry is one hi-entry of History-Info (RFC 7044 section 9.1).
type HistoryEntry struct {
	URI   URI    // the target, its cause parameter (RFC 4458) kept in Params
	Index string // "1", "1.1", ...: its place in the tree of retargetings
	// Cause is the URI's cause parameter (RFC 4458 section 2: 486 busy,
	// 408 no answer, 480 unavailable, 302 unconditional, ...): why the
	// request was retargeted to this entry; 0 = none.
	Cause int
	// Mapped is the index this entry's target was mapped from (mp: the
	// target changed, e.g. to a voicemail box); Retargeted likewise for
	// rc (the same user, another contact); "" = none.
	Mapped, Retargeted string
}

// ParseHistoryInfo parses the values of History-Info headers, in the
// order they were received.
func ParseHistoryInfo(values []string) ([]HistoryEntry, error) {
	var out []HistoryEntry
	for _, v := range values {
		for _, e := range SplitList(v) {
			na, err := ParseNameAddr(e)
			if err != nil {
				return nil, fmt.Errorf("sipmsg: History-Info %q: %w", clip(e), err)
			}
			h := HistoryEntry{URI: na.URI}
			h.Index, _ = na.Param("index")
			if !validIndex(h.Index) {
				return nil, fmt.Errorf("sipmsg: History-Info index %q: %w", clip(h.Index), ErrMalformed)
			}
			if c, ok := na.URI.Param("cause"); ok {
				n, err := strconv.Atoi(c)
				if err != nil || n < 100 || n > 699 {
					return nil, fmt.Errorf("sipmsg: History-Info cause %q: %w", clip(c), ErrMalformed)
				}
				h.Cause = n
			}
			h.Mapped, _ = na.Param("mp")
			h.Retargeted, _ = na.Param("rc")
			out = append(out, h)
		}
	}
	return out, nil
}

// validIndex reports whether s is an hi-index: digits separated by dots
// (RFC 7044 section 9.1: 1*DIGIT *("." 1*DIGIT)).
func validIndex(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.' && digit:
			digit = false
		default:
			return false
		}
	}
	return digit
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
