package provision

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/deskphone/deskphone/firmware/provision/tftpdtest"
)

// TestAgainstTftpdHPA runs the client against tftpd-hpa's in.tftpd in the
// foreground on a 127.0.0.1 port serving a temporary directory.
func TestAgainstTftpdHPA(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"phone.cfg":        []byte("line.1.registrar = 10.0.2.2:5060\n"),
		"525400123456.cfg": []byte("line.1.user = 1001\n"),
		"empty":            {},
		"exact":            pattern(1428 * 2),
		"big":              pattern(300_000),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := tftpdtest.Start(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for name, want := range files {
		for _, bs := range []int{0, 512, 8, 65464} {
			got, err := (&Client{BlockSize: bs}).Get(ctx, addr, name, 1<<20)
			if err != nil {
				t.Fatalf("Get %s blksize %d: %v", name, bs, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Get %s blksize %d: %d bytes, want %d", name, bs, len(got), len(want))
			}
		}
	}
	if _, err := Get(ctx, addr, "missing.cfg", 1<<20); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
	if _, err := Get(ctx, addr, "big", 1000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big file with small limit: %v, want ErrTooLarge", err)
	}
	// Download, the getter firmware updates share, over tftp://.
	var b bytes.Buffer
	if m, err := Download(ctx, "tftp://"+addr+"/big", &b, 1<<20, nil); err != nil || !bytes.Equal(b.Bytes(), files["big"]) || m.Size != int64(len(files["big"])) {
		t.Errorf("Download tftp: %+v, %v", m, err)
	}
	if _, err := Download(ctx, "tftp://"+addr+"/big", &b, 1000, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Download tftp with a small limit: %v, want ErrTooLarge", err)
	}
	mac, _ := net.ParseMAC("52:54:00:12:34:56")
	common, own, err := Fetch(ctx, addr, "", mac, t.Logf)
	if err != nil || string(common) != string(files["phone.cfg"]) || string(own) != string(files["525400123456.cfg"]) {
		t.Errorf("Fetch = %q, %q, %v", common, own, err)
	}
}

// TestGetToStreamsAndStops streams a file from tftpd-hpa into a writer,
// and stops the transfer when the writer says so.
func TestGetToStreamsAndStops(t *testing.T) {
	dir := t.TempDir()
	want := pattern(500_000)
	if err := os.WriteFile(filepath.Join(dir, "fw.img"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := tftpdtest.Start(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got bytes.Buffer
	n, err := (&Client{}).GetTo(ctx, addr, "fw.img", &got, 1<<20)
	if err != nil || n != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("GetTo = %d, %v; %d bytes", n, err, got.Len())
	}
	stop := errors.New("seen enough")
	w := &stopWriter{after: 3000, err: stop}
	n, err = (&Client{}).GetTo(ctx, addr, "fw.img", w, 1<<20)
	if !errors.Is(err, stop) || n > 3000+1428 {
		t.Errorf("GetTo into a writer that stops: %d bytes, %v", n, err)
	}
	// The server was told: it serves the next transfer at once.
	if _, err := (&Client{}).GetTo(ctx, addr, "fw.img", io.Discard, 1<<20); err != nil {
		t.Errorf("after the stopped transfer: %v", err)
	}
}

type stopWriter struct {
	n, after int
	err      error
}

func (w *stopWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.after {
		return 0, w.err
	}
	w.n += len(p)
	return len(p), nil
}
