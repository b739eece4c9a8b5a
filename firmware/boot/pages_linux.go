package boot

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// DropStartPages lets go of the pages of this program's own file that the
// process has mapped so far: its code and read-only data (the executable's
// r-xp and r--p mappings; never a writable one). Run once when the phone is
// up, it drops what only starting touched (every package's init, the
// configuration's parser, provisioning, TLS's set-up), and the kernel maps
// back, from the page cache, only what the phone then runs. It frees no
// memory of its own (the pages stay in the page cache, as the kernel would
// have left them under memory pressure); what it changes is how much of the
// file the process holds mapped, which is the file part of its resident
// set. It returns that part before and after, in KiB (rssFileKiB).
func DropStartPages() (before, after int, err error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, 0, err
	}
	before = rssFileKiB()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	type span struct{ start, end uintptr }
	var spans []span
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-0098a000 r-xp 00000000 fe:00 9977998  /path/phoned
		fs := bytes.Fields(sc.Bytes())
		if len(fs) < 6 || string(fs[5]) != exe {
			continue
		}
		if perm := string(fs[1]); perm != "r-xp" && perm != "r--p" {
			continue
		}
		a, b, ok := bytes.Cut(fs[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(a), 16, 64)
		end, err2 := strconv.ParseUint(string(b), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		spans = append(spans, span{uintptr(start), uintptr(end)})
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	for _, s := range spans {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, s.start, s.end-s.start, unix.MADV_DONTNEED); e != 0 {
			return before, rssFileKiB(), e
		}
	}
	return before, rssFileKiB(), nil
}

// rssFileKiB is the file part of the resident set, KiB, from
// /proc/self/status: RssFile, plus RssShmem for a program run from a
// tmpfs or an initramfs (the QEMU and Pi images' phoned), whose pages
// are counted there; 0 when it cannot be read.
func rssFileKiB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return statusKiB(b, "RssFile:") + statusKiB(b, "RssShmem:")
}

// statusKiB is the figure of one "Key:   N kB" line of a status file.
func statusKiB(b []byte, key string) int {
	_, rest, ok := bytes.Cut(b, []byte(key))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, _ := strconv.Atoi(string(bytes.TrimSuffix(bytes.TrimSpace(line), []byte(" kB"))))
	return n
}
