package sipmsg

import (
	"reflect"
	"testing"
)

func TestSplitList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"a", []string{"a"}},
		{" a , b ,c ", []string{"a", "b", "c"}},
		{`"Doe, John" <sip:j@x>, <sip:k@y;p=1,2>`, []string{`"Doe, John" <sip:j@x>`, `<sip:k@y;p=1,2>`}},
		{`"a \", b" <sip:a@x>,c`, []string{`"a \", b" <sip:a@x>`, "c"}},
		{"a,,b,", []string{"a", "b"}},
		{",", nil},
	} {
		if got := SplitList(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
