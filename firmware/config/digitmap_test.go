package config

import "testing"

func TestDigitMap(t *testing.T) {
	m, err := ParseDigitMap("[2-9]xxx|0x.|*xx|9[135]1#")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		digits     string
		full, more bool
	}{
		{"", false, true},
		{"2", false, true},
		{"2001", true, false},
		{"20011", false, false},
		{"1", false, false},
		{"0", true, true},
		{"0123456", true, true},
		{"*7", false, true},
		{"*72", true, false},
		{"93", false, true},
		{"931#", true, false},
		{"921", false, true}, // a prefix of [2-9]xxx
		{"*7#", false, false},
	} {
		full, more := m.Match(tc.digits)
		if full != tc.full || more != tc.more {
			t.Errorf("%q: full %t more %t, want %t %t", tc.digits, full, more, tc.full, tc.more)
		}
	}
	for _, bad := range []string{"1||2", ".1", "1..", "[2-", "[]", "12a", "[9-2]"} {
		if _, err := ParseDigitMap(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if m, err := ParseDigitMap("(xxxx)"); err != nil || m.Empty() {
		t.Fatalf("parenthesised: %v", err)
	}
	if m, _ := ParseDigitMap(""); !m.Empty() {
		t.Fatal("empty map not empty")
	}
}
