package qemu

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cavaliergopher/cpio"
)

// emptyDirs are in every initramfs: the mount points of boot.MountEssentials
// and /etc for resolv.conf.
var emptyDirs = []string{"dev", "proc", "sys", "tmp", "run", "etc"}

// WriteInitramfs writes a gzip-compressed newc cpio archive with
// initBinary as /init, the usual empty directories (dev, proc, sys, tmp,
// run, etc), and extra files (path inside the archive, such as
// "etc/phone.cfg", to contents; mode 0644, parent directories added).
func WriteInitramfs(w io.Writer, initBinary string, extra map[string][]byte) error {
	init, err := os.ReadFile(initBinary)
	if err != nil {
		return fmt.Errorf("qemu: initramfs: %w", err)
	}
	zw := gzip.NewWriter(w)
	cw := cpio.NewWriter(zw)
	mtime := time.Unix(0, 0)
	dirs := map[string]bool{}
	var ino int64
	add := func(h *cpio.Header, body []byte) error {
		ino++
		h.Inode = ino
		h.ModTime = mtime
		if err := cw.WriteHeader(h); err != nil {
			return err
		}
		if len(body) > 0 {
			if _, err := cw.Write(body); err != nil {
				return err
			}
		}
		return nil
	}
	var addDir func(d string) error
	addDir = func(d string) error {
		if d == "." || d == "" || dirs[d] {
			return nil
		}
		if err := addDir(path.Dir(d)); err != nil {
			return err
		}
		dirs[d] = true
		mode := cpio.FileMode(0o755)
		if d == "tmp" {
			mode = 0o1777
		}
		return add(&cpio.Header{Name: d, Mode: cpio.TypeDir | mode, Links: 2}, nil)
	}
	for _, d := range emptyDirs {
		if err := addDir(d); err != nil {
			return fmt.Errorf("qemu: initramfs: %w", err)
		}
	}
	if err := add(&cpio.Header{Name: "init", Mode: cpio.TypeReg | 0o755, Size: int64(len(init)), Links: 1}, init); err != nil {
		return fmt.Errorf("qemu: initramfs: %w", err)
	}
	names := make([]string, 0, len(extra))
	for n := range extra {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		clean := strings.TrimPrefix(path.Clean("/"+n), "/")
		if clean == "" || clean == "init" {
			return fmt.Errorf("qemu: initramfs: bad extra file name %q", n)
		}
		if err := addDir(path.Dir(clean)); err != nil {
			return fmt.Errorf("qemu: initramfs: %w", err)
		}
		body := extra[n]
		if err := add(&cpio.Header{Name: clean, Mode: cpio.TypeReg | 0o644, Size: int64(len(body)), Links: 1}, body); err != nil {
			return fmt.Errorf("qemu: initramfs: %w", err)
		}
	}
	if err := cw.Close(); err != nil {
		return fmt.Errorf("qemu: initramfs: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("qemu: initramfs: %w", err)
	}
	return nil
}

// Entry is one member of an initramfs, as ReadInitramfs returns it.
type Entry struct {
	Name string        // path inside the archive, without a leading "./"
	Mode cpio.FileMode // type and permission bits
	Body []byte
}

// IsDir reports whether the entry is a directory.
func (e Entry) IsDir() bool { return e.Mode&0o170000 == cpio.TypeDir }

// ReadInitramfs reads a gzip-compressed newc cpio archive (what
// WriteInitramfs writes), member by member in archive order.
func ReadInitramfs(r io.Reader) ([]Entry, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("qemu: initramfs: %w", err)
	}
	cr := cpio.NewReader(zr)
	var es []Entry
	for {
		h, err := cr.Next()
		if err == io.EOF {
			return es, nil
		}
		if err != nil {
			return nil, fmt.Errorf("qemu: initramfs: %w", err)
		}
		body, err := io.ReadAll(cr)
		if err != nil {
			return nil, fmt.Errorf("qemu: initramfs: %s: %w", h.Name, err)
		}
		es = append(es, Entry{Name: strings.TrimPrefix(h.Name, "./"), Mode: h.Mode, Body: body})
	}
}

// BuildInitramfs builds pkg (relative to repoRoot, e.g.
// "./firmware/cmd/phoned") as a static linux/arm64 binary into dir and
// packs it as /init, with extra, into dir/initrd.gz, whose path it returns.
func BuildInitramfs(ctx context.Context, repoRoot, pkg, dir string, extra map[string][]byte) (string, error) {
	bin := filepath.Join(dir, path.Base(pkg)+"-arm64")
	if err := BuildArm64(ctx, repoRoot, pkg, bin); err != nil {
		return "", err
	}
	return WriteInitramfsFile(filepath.Join(dir, "initrd.gz"), bin, extra)
}

// WriteInitramfsFile is WriteInitramfs into the file at out; it returns out.
func WriteInitramfsFile(out, initBinary string, extra map[string][]byte) (string, error) {
	f, err := os.Create(out)
	if err != nil {
		return "", fmt.Errorf("qemu: initramfs: %w", err)
	}
	if err := WriteInitramfs(f, initBinary, extra); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("qemu: initramfs: %w", err)
	}
	return out, nil
}
