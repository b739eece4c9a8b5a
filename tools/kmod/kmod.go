// Package kmod finds Debian's arm64 kernel where tools/setup/debian-kernel.sh
// leaves it, and orders kernel modules for loading from its modules.dep, so
// an initramfs carries a module and its dependencies, each after the ones it
// needs (firmware/boot.LoadModules loads them in that order).
package kmod

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Dir is the folder debian-kernel.sh fills: $DESKPHONE_CACHE/debian-kernel,
// else $XDG_CACHE_HOME/deskphone/debian-kernel, else
// ~/.cache/deskphone/debian-kernel.
func Dir() string {
	if c := os.Getenv("DESKPHONE_CACHE"); c != "" {
		return filepath.Join(c, "debian-kernel")
	}
	c := os.Getenv("XDG_CACHE_HOME")
	if c == "" {
		h, _ := os.UserHomeDir()
		c = filepath.Join(h, ".cache")
	}
	return filepath.Join(c, "deskphone", "debian-kernel")
}

// Kernel is the unpacked kernel package in a Dir.
type Kernel struct {
	Dir     string
	Version string // "linux-image-6.1.0-56-arm64 6.1.0-56-arm64"
	dep     map[string][]string
}

// Open reads the kernel in dir, saying how to get it when it is not there.
func Open(dir string) (*Kernel, error) {
	dep, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("kmod: Debian's arm64 kernel is not in %s (run tools/setup/debian-kernel.sh; make deps does): %w", dir, err)
	}
	ver, _ := os.ReadFile(filepath.Join(dir, "version"))
	m, err := ParseDep(dep)
	if err != nil {
		return nil, err
	}
	return &Kernel{Dir: dir, Version: strings.TrimSpace(string(ver)), dep: m}, nil
}

// ParseDep parses depmod's modules.dep: "path.ko: dep.ko dep2.ko" per line.
func ParseDep(b []byte) (map[string][]string, error) {
	m := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		mod, deps, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(mod) == "" {
			return nil, fmt.Errorf("kmod: modules.dep line %d: %q is not \"module: deps\"", n, line)
		}
		m[strings.TrimSpace(mod)] = strings.Fields(deps)
	}
	return m, sc.Err()
}

// name is a module's name from its path: "kernel/sound/soc/snd-soc-core.ko"
// is snd_soc_core (the kernel treats - and _ alike).
func name(p string) string {
	b := path.Base(p)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

// Order returns the module paths (as modules.dep has them) that loading
// want needs, each after its dependencies, each once. A module that is not
// in modules.dep is an error naming it.
func Order(dep map[string][]string, want []string) ([]string, error) {
	byName := map[string]string{}
	for p := range dep {
		byName[name(p)] = p
	}
	var order []string
	state := map[string]int{} // 1: being placed, 2: placed
	var place func(p string, chain []string) error
	place = func(p string, chain []string) error {
		switch state[p] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("kmod: modules.dep has a cycle: %s", strings.Join(append(chain, p), " -> "))
		}
		state[p] = 1
		for _, d := range dep[p] {
			if _, ok := dep[d]; !ok {
				return fmt.Errorf("kmod: %s needs %s, which modules.dep does not list", p, d)
			}
			if err := place(d, append(chain, p)); err != nil {
				return err
			}
		}
		state[p] = 2
		order = append(order, p)
		return nil
	}
	for _, w := range want {
		p, ok := byName[name(w)]
		if !ok {
			return nil, fmt.Errorf("kmod: module %s is not in modules.dep (add it to tools/setup/debian-kernel.sh's list)", w)
		}
		if err := place(p, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// Files returns an initramfs's modules folder for want: modules/<file> for
// each module and modules/modules.load naming them in load order, keyed as
// tools/qemu.WriteInitramfs takes extra files.
func (k *Kernel) Files(want []string) (map[string][]byte, error) {
	order, err := Order(k.dep, want)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var load strings.Builder
	for _, p := range order {
		b, err := os.ReadFile(filepath.Join(k.Dir, "modules", path.Base(p)))
		if err != nil {
			return nil, fmt.Errorf("kmod: %w", err)
		}
		files["modules/"+path.Base(p)] = b
		load.WriteString(path.Base(p) + "\n")
	}
	files["modules/modules.load"] = []byte(load.String())
	return files, nil
}
