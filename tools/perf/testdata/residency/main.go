// Command residency says which parts of a running Go program's binary are
// resident, beside README's "The whole phone against baresip": of a
// process's file RSS, how much is each ELF section (code, read-only data,
// the runtime's pc tables) and, of the code, each package. It reads which
// pages are mapped from /proc/PID/pagemap (root) and the symbols with
// `go tool nm`; a page counts for every section and symbol it holds part
// of. Run it on a phone in a call, e.g. while `go run ./tools/cmd/perf
// -call 60s` holds one:
//
//	go run ./tools/perf/testdata/residency $(pgrep -f phoned-host | head -1)
package main

import (
	"bufio"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

const page = 4096

func main() {
	top := flag.Int("top", 30, "how many packages to list")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: residency [-top N] PID")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *top); err != nil {
		fmt.Fprintln(os.Stderr, "residency:", err)
		os.Exit(1)
	}
}

func run(pid string, top int) error {
	proc := "/proc/" + pid
	exe, err := os.Readlink(proc + "/exe")
	if err != nil {
		return err
	}
	present, err := residentPages(proc, strings.TrimSuffix(exe, " (deleted)"))
	if err != nil {
		return err
	}
	fmt.Printf("%s: %.2f MB of its binary resident\n", exe, mb(len(present)*page))
	f, err := elf.Open(proc + "/exe")
	if err != nil {
		return err
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Addr == 0 || s.Type == elf.SHT_NOBITS {
			continue
		}
		n := 0
		for a := s.Addr &^ (page - 1); a < s.Addr+s.Size; a += page {
			if present[a] {
				n++
			}
		}
		fmt.Printf("  %-16s %6.2f MB of %6.2f MB\n", s.Name, mb(n*page), mb(int(s.Size)))
	}
	out, err := exec.Command("go", "tool", "nm", "-size", "-sort", "address", proc+"/exe").Output()
	if err != nil {
		return fmt.Errorf("go tool nm: %w", err)
	}
	res, all := map[string]int{}, map[string]int{}
	for _, l := range strings.Split(string(out), "\n") {
		fs := strings.Fields(l)
		if len(fs) < 4 || (fs[2] != "T" && fs[2] != "t") {
			continue
		}
		addr, err1 := strconv.ParseUint(fs[0], 16, 64)
		size, err2 := strconv.ParseUint(fs[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		p := pkgOf(strings.Join(fs[3:], " "))
		all[p] += int(size)
		for a, end := addr, addr+size; a < end; {
			next := min(a&^(page-1)+page, end)
			if present[a&^(page-1)] {
				res[p] += int(next - a)
			}
			a = next
		}
	}
	pkgs := make([]string, 0, len(res))
	for p := range res {
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return res[pkgs[i]] > res[pkgs[j]] })
	fmt.Println("  code resident, by package:")
	for i, p := range pkgs {
		if i == top {
			break
		}
		fmt.Printf("    %-48s %5d KB of %5d KB\n", p, res[p]/1024, all[p]/1024)
	}
	return nil
}

// residentPages returns the addresses of the pages of the binary's
// mappings that are present (pagemap bit 63).
func residentPages(proc, exe string) (map[uint64]bool, error) {
	maps, err := os.Open(proc + "/maps")
	if err != nil {
		return nil, err
	}
	defer maps.Close()
	pm, err := os.Open(proc + "/pagemap")
	if err != nil {
		return nil, err
	}
	defer pm.Close()
	present := map[uint64]bool{}
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 6 || strings.TrimSuffix(strings.Join(fs[5:], " "), " (deleted)") != exe {
			continue
		}
		lo, hi, ok := strings.Cut(fs[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad maps line %q", sc.Text())
		}
		buf := make([]byte, 8*((end-start)/page))
		if _, err := pm.ReadAt(buf, int64(start/page*8)); err != nil {
			return nil, fmt.Errorf("pagemap: %w", err)
		}
		for i := range (end - start) / page {
			if binary.LittleEndian.Uint64(buf[i*8:])&(1<<63) != 0 {
				present[start+i*page] = true
			}
		}
	}
	return present, sc.Err()
}

// pkgOf is the package path of a symbol: up to the first '.' after the
// last '/'.
func pkgOf(sym string) string {
	i := strings.LastIndexByte(sym, '/') + 1
	if j := strings.IndexByte(sym[i:], '.'); j >= 0 {
		return sym[:i+j]
	}
	return sym
}

func mb(n int) float64 { return float64(n) / 1e6 }
