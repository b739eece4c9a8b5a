package kmod

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const dep = `kernel/sound/soundcore.ko:
kernel/sound/core/snd.ko: kernel/sound/soundcore.ko
kernel/sound/core/snd-timer.ko: kernel/sound/core/snd.ko
kernel/sound/core/snd-pcm.ko: kernel/sound/core/snd.ko kernel/sound/core/snd-timer.ko
kernel/sound/drivers/snd-aloop.ko: kernel/sound/core/snd-timer.ko kernel/sound/core/snd.ko kernel/sound/core/snd-pcm.ko
kernel/sound/soc/snd-soc-core.ko: kernel/sound/core/snd-pcm.ko kernel/sound/core/snd.ko
kernel/drivers/usb/dwc2/dwc2.ko:
kernel/drivers/net/usb/cdc_ether.ko: kernel/drivers/net/usb/usbnet.ko
kernel/drivers/net/usb/usbnet.ko:
`

func TestOrder(t *testing.T) {
	m, err := ParseDep([]byte(dep))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Order(m, []string{"snd-aloop", "snd_soc_core", "cdc-ether"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"kernel/sound/soundcore.ko", "kernel/sound/core/snd.ko", "kernel/sound/core/snd-timer.ko",
		"kernel/sound/core/snd-pcm.ko", "kernel/sound/drivers/snd-aloop.ko", "kernel/sound/soc/snd-soc-core.ko",
		"kernel/drivers/net/usb/usbnet.ko", "kernel/drivers/net/usb/cdc_ether.ko",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Order =\n%v\nwant\n%v", got, want)
	}
	if _, err := Order(m, []string{"snd-hda-intel"}); err == nil || !strings.Contains(err.Error(), "snd-hda-intel") {
		t.Errorf("missing module: %v", err)
	}
}

func TestOrderRefusesBrokenDeps(t *testing.T) {
	m, _ := ParseDep([]byte("a.ko: b.ko\nb.ko: a.ko\nc.ko: gone.ko\n"))
	if _, err := Order(m, []string{"a"}); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: %v", err)
	}
	if _, err := Order(m, []string{"c"}); err == nil || !strings.Contains(err.Error(), "gone.ko") {
		t.Errorf("dangling dependency: %v", err)
	}
	if _, err := ParseDep([]byte("no colon here\n")); err == nil {
		t.Error("a line without a colon parsed")
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644)
	os.WriteFile(filepath.Join(dir, "version"), []byte("linux-image-test 6.1\n"), 0o644)
	os.Mkdir(filepath.Join(dir, "modules"), 0o755)
	for _, f := range []string{"usbnet.ko", "cdc_ether.ko"} {
		os.WriteFile(filepath.Join(dir, "modules", f), []byte("ELF "+f), 0o644)
	}
	k, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := k.Files([]string{"cdc_ether"})
	if err != nil {
		t.Fatal(err)
	}
	if string(files["modules/modules.load"]) != "usbnet.ko\ncdc_ether.ko\n" || string(files["modules/cdc_ether.ko"]) != "ELF cdc_ether.ko" || len(files) != 3 {
		t.Errorf("files: %q", files)
	}
	if _, err := k.Files([]string{"dwc2"}); err == nil {
		t.Error("a module listed in modules.dep but missing from the folder gave no error")
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "debian-kernel.sh") {
		t.Errorf("empty folder: %v", err)
	}
}
