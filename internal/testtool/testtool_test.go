package testtool

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

func TestHoldExcludes(t *testing.T) {
	a, err := Hold(4)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	seen := map[int]bool{}
	for p := a.Base; p < a.Base+a.N; p++ {
		seen[p] = true
	}
	for i := 0; i < 50; i++ {
		b, err := Hold(4)
		if err != nil {
			t.Fatal(err)
		}
		for p := b.Base; p < b.Base+b.N; p++ {
			if seen[p] {
				t.Fatalf("port %d held twice", p)
			}
		}
		b.Release()
	}
	if a.Base < portLow || a.Base+a.N-1 > portHigh {
		t.Fatalf("block %d+%d outside %d-%d", a.Base, a.N, portLow, portHigh)
	}
}

func TestHoldAcrossProcesses(t *testing.T) {
	a, err := Hold(1)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	fl := Need(t, "flock") // util-linux: tries the lock from another process
	// flock(1) -n fails at once while this process holds the lock.
	out, err := exec.Command(fl, "-n", lockDir+"/"+strconv.Itoa(a.Base), "true").CombinedOutput()
	if err == nil {
		t.Fatalf("another process took port %d's lock: %s", a.Base, out)
	}
	a.Release()
	if out, err := exec.Command(fl, "-n", lockDir+"/"+strconv.Itoa(a.Base), "true").CombinedOutput(); err != nil {
		t.Fatalf("lock not released: %v %s", err, out)
	}
}

func TestMissingSkipsOutsideCI(t *testing.T) {
	t.Setenv("CI", "")
	ran := false
	t.Run("inner", func(t *testing.T) {
		defer func() { ran = true }()
		Missing(t, "nothing")
		t.Error("Missing returned")
	})
	if !ran {
		t.Fatal("inner did not run")
	}
}

func TestHoldEven(t *testing.T) {
	for i := 0; i < 50; i++ {
		h, err := HoldEven(3)
		if err != nil {
			t.Fatal(err)
		}
		if h.Base%2 != 0 || h.N != 3 || h.Base < portLow || h.Base+h.N-1 > portHigh {
			t.Fatalf("block %d+%d", h.Base, h.N)
		}
		h.Release()
	}
}

// TestDNSMasq: the records given are served, from the address returned.
func TestDNSMasq(t *testing.T) {
	server := DNSMasq(t, "--local=/example.test/", "--host-record=a.example.test,127.0.0.9")
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, server)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(ctx, "a.example.test")
	if err != nil || len(addrs) != 1 || addrs[0] != "127.0.0.9" {
		t.Fatalf("LookupHost = %q, %v", addrs, err)
	}
}
