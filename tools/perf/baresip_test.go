package perf

import (
	"bufio"
	"strings"
	"testing"
)

func TestNetstring(t *testing.T) {
	r := bufio.NewReader(strings.NewReader(`5:hello,0:,11:{"event":1},3:abc`))
	for _, want := range []string{"hello", "", `{"event":1}`} {
		b, err := readNetstring(r)
		if err != nil || string(b) != want {
			t.Fatalf("got %q, %v; want %q", b, err, want)
		}
	}
	if _, err := readNetstring(r); err == nil {
		t.Fatal("a netstring without its ',' read")
	}
}
