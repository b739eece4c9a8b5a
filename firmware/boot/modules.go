package boot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ModulesDir is where an image's initramfs keeps its kernel modules, with
// modules.load naming them in load order (dependencies first).
const ModulesDir = "/modules"

// LoadModules loads every module dir/modules.load names, in order. A
// module that fails is logged with the error and the rest are still
// loaded (one missing driver must not cost the phone its network or its
// sound); the failures are returned joined. A module already loaded (or
// built in) counts as loaded.
func LoadModules(dir string, logf func(string, ...any)) (loaded int, err error) {
	return loadModules(dir, logf, loadModule)
}

func loadModules(dir string, logf func(string, ...any), load func(path string) error) (int, error) {
	list, err := os.ReadFile(filepath.Join(dir, "modules.load"))
	if err != nil {
		return 0, fmt.Errorf("boot: modules: %w", err)
	}
	start := time.Now()
	var failed []error
	n := 0
	for _, name := range strings.Fields(string(list)) {
		if strings.Contains(name, "/") {
			failed = append(failed, fmt.Errorf("boot: module %q: a file name in %s, not a path", name, dir))
			continue
		}
		if err := load(filepath.Join(dir, name)); err != nil {
			logf("boot: module %s failed: %v; the rest are loaded", name, err)
			failed = append(failed, fmt.Errorf("boot: module %s: %w", name, err))
			continue
		}
		n++
	}
	logf("boot: %d kernel modules loaded in %s, %d failed", n, time.Since(start).Round(time.Millisecond), len(failed))
	return n, errors.Join(failed...)
}
