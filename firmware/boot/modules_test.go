package boot

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadModulesInOrderPastFailures(t *testing.T) {
	dir := t.TempDir()
	list := "soundcore.ko\nsnd.ko snd-pcm.ko\n\nbroken.ko genet.ko\n../evil.ko\n"
	if err := os.WriteFile(filepath.Join(dir, "modules.load"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	var tried []string
	var log strings.Builder
	n, err := loadModules(dir, func(f string, a ...any) { log.WriteString(f + "\n") }, func(p string) error {
		tried = append(tried, filepath.Base(p))
		if filepath.Dir(p) != dir {
			t.Errorf("module path %s outside %s", p, dir)
		}
		if strings.HasSuffix(p, "broken.ko") {
			return errors.New("exec format error")
		}
		return nil
	})
	if want := []string{"soundcore.ko", "snd.ko", "snd-pcm.ko", "broken.ko", "genet.ko"}; !slices.Equal(tried, want) {
		t.Errorf("loaded %v, want %v (in order, going on past a failure, no path outside the folder)", tried, want)
	}
	if n != 4 {
		t.Errorf("%d loaded, want 4", n)
	}
	if err == nil || !strings.Contains(err.Error(), "broken.ko") || !strings.Contains(err.Error(), "../evil.ko") {
		t.Errorf("error %v should name broken.ko and ../evil.ko", err)
	}
	if !strings.Contains(log.String(), "failed") {
		t.Errorf("the failure was not logged: %q", log.String())
	}
}

func TestLoadModulesWithoutList(t *testing.T) {
	if _, err := LoadModules(t.TempDir(), t.Logf); err == nil {
		t.Error("a folder without modules.load loaded")
	}
}
