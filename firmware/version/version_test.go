package version

import "testing"

func TestParseAndCompare(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1.2.3", "1.2.3", 0}, {"1.2", "1.2.0", 0}, {"1.10.0", "1.9.9", 1}, {"0.9", "1", -1},
		{"2", "1.99.99.99", 1}, {"1.2.3.4", "1.2.3", 1},
	} {
		a, err := Parse(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s vs %s: %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	for _, bad := range []string{"", "dev", "1.", ".1", "1..2", "v1.2", "1.2.3.4.5", "1.-2", "1234567890", "1.2 "} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("1.2.3")
	f.Add("0.0.0.1")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		if len(v) < 1 || len(v) > 4 || v.Compare(v) != 0 {
			t.Fatalf("%q parsed to %v", s, v)
		}
	})
}
