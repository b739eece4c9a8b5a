package piimage

import (
	"bytes"
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/kmod"
	"github.com/deskphone/deskphone/tools/piimage/disk"
	"github.com/deskphone/deskphone/tools/qemu"
)

// built is the image every test here reads: built once, for every Pi board.
var built struct {
	once   sync.Once
	dir    string
	image  string
	phoned []byte
	kernel *kmod.Kernel
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// needKernel skips (fails in CI) when Debian's kernel or dtc is missing.
func needKernel(t *testing.T) *kmod.Kernel {
	t.Helper()
	k, err := kmod.Open(kmod.Dir())
	if err != nil {
		testtool.Missing(t, "Debian's arm64 kernel package: %v", err)
	}
	testtool.Need(t, "dtc") // Debian package device-tree-compiler
	return k
}

// image builds (once) the image for every Pi board and returns its path.
func image(t *testing.T) string {
	t.Helper()
	k := needKernel(t)
	built.once.Do(func() {
		built.kernel = k
		built.dir, built.err = os.MkdirTemp("", "piimage-test")
		if built.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		phoned := filepath.Join(built.dir, "phoned")
		if built.err = qemu.BuildArm64WithVersion(ctx, "../..", "./firmware/cmd/phoned", phoned, "test"); built.err != nil {
			return
		}
		if built.phoned, built.err = os.ReadFile(phoned); built.err != nil {
			return
		}
		built.image = filepath.Join(built.dir, "deskphone-rpi.img")
		built.err = Write(ctx, Options{Kernel: k, Phoned: phoned, Version: "test"}, built.image)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.image
}

// The image as the Pi's boot firmware reads it: an MBR with a FAT32 boot
// partition and the state partition; on the boot partition the firmware,
// a config.txt whose every board section picks a device tree that is
// there, the kernel, the initramfs.
func TestImageLayoutAndBootFiles(t *testing.T) {
	img := image(t)
	parts, files, err := disk.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || parts[0].Type != 0x0c || parts[1].Type != 0xda || parts[0].StartBytes != 4<<20 {
		t.Errorf("partitions %+v: want FAT32 LBA at 4 MiB, then the state partition", parts)
	}
	for _, f := range append(slices.Clone(FirmwareFiles), "config.txt", "cmdline.txt", KernelFile, InitramfsFile) {
		if len(files[f]) == 0 {
			t.Errorf("boot partition lacks %s", f)
		}
	}
	if !IsArm64Image(files[KernelFile]) {
		t.Error("kernel8.img is not an uncompressed arm64 Image")
	}
	cfg := string(files["config.txt"])
	for _, want := range []string{"arm_64bit=1\n", "upstream_kernel=1\n", "kernel=" + KernelFile + "\n", "initramfs " + InitramfsFile + " followkernel\n", "enable_uart=1\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config.txt lacks %q:\n%s", want, cfg)
		}
	}
	if !strings.HasSuffix(cfg, "[all]\n") {
		t.Error("config.txt does not end in [all]: lines added after it would apply to one board only")
	}
	for _, b := range PiBoards() {
		if !strings.Contains(cfg, strings.Join(b.Config, "\n")+"\n") {
			t.Errorf("config.txt lacks %s's section %q", b.Name, b.Config)
		}
		for _, l := range b.Config {
			if dt, ok := strings.CutPrefix(l, "device_tree="); ok && len(files[dt]) == 0 {
				t.Errorf("%s: config.txt picks %s, which the image lacks", b.Name, dt)
			}
		}
	}
	if got := string(files["cmdline.txt"]); got != DefaultCmdline+"\n" {
		t.Errorf("cmdline.txt %q", got)
	}
}

// Every board's device trees carry the sound card and the alias that makes
// the header's I2C bus /dev/i2c-1, still name their model
// (so phoned picks the board that built them) and compile back to source.
func TestDeviceTreesHaveTheSoundCard(t *testing.T) {
	img := image(t)
	_, files, err := disk.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range PiBoards() {
		for _, dt := range b.DeviceTrees {
			tree := files[path.Base(dt)]
			src, err := dtc(context.Background(), tree, "-I", "dtb", "-O", "dts")
			if err != nil {
				t.Fatalf("%s: %v", dt, err)
			}
			s := string(src)
			for _, want := range []string{`simple-audio-card,name = "phone";`, `compatible = "linux,spdif-dit";`, `compatible = "linux,spdif-dir";`, `i2c1 = "/soc/i2c@7e804000";`} {
				if !strings.Contains(s, want) {
					t.Errorf("%s lacks %s", dt, want)
				}
			}
			i2s := s[strings.Index(s, "i2s@7e203000 {"):]
			i2s = i2s[:strings.Index(i2s, "};")]
			if !strings.Contains(i2s, `status = "okay";`) || !strings.Contains(i2s, "#sound-dai-cells = <0x00>;") {
				t.Errorf("%s: the I2S controller is not on:\n%s", dt, i2s)
			}
			model := s[strings.Index(s, `model = "`)+len(`model = "`):]
			model = model[:strings.Index(model, `"`)]
			if got, ok := boards.ByModel(model); !ok || got.Name != b.Name {
				t.Errorf("%s: model %q picks board %q, want %s", dt, model, got.Name, b.Name)
			}
		}
	}
}

// The initramfs is phoned as /init and every board's modules, each after
// its dependencies, as modules.load lists them.
func TestInitramfs(t *testing.T) {
	img := image(t)
	_, files, err := disk.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := qemu.ReadInitramfs(bytes.NewReader(files[InitramfsFile]))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, e := range entries {
		got[e.Name] = e.Body
		if e.Name == "init" && e.Mode&0o111 == 0 {
			t.Error("/init is not executable")
		}
	}
	if !bytes.Equal(got["init"], built.phoned) {
		t.Error("/init is not the phoned that was built")
	}
	var want []string
	for _, b := range PiBoards() {
		for _, m := range b.Modules {
			if !slices.Contains(want, m) {
				want = append(want, m)
			}
		}
	}
	dep, _ := os.ReadFile(filepath.Join(built.kernel.Dir, "modules.dep"))
	m, _ := kmod.ParseDep(dep)
	order, err := kmod.Order(m, want)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range order {
		names = append(names, path.Base(p))
		if len(got["modules/"+path.Base(p)]) == 0 {
			t.Errorf("initramfs lacks modules/%s", path.Base(p))
		}
	}
	if load := strings.Fields(string(got["modules/modules.load"])); !slices.Equal(load, names) {
		t.Errorf("modules.load %v, want %v", load, names)
	}
}

func TestConfigTxtForOneBoard(t *testing.T) {
	b, _ := boards.ByName("rpi4b")
	cfg := ConfigTxt([]boards.Board{b}, "v1")
	if !strings.Contains(cfg, "deskphone v1 for rpi4b") || !strings.Contains(cfg, "[pi4]\ndevice_tree=bcm2711-rpi-4-b.dtb\n") || strings.Contains(cfg, "[pi3]") {
		t.Errorf("config.txt for rpi4b:\n%s", cfg)
	}
}

func TestBootFilesRefusesOtherBoards(t *testing.T) {
	q, _ := boards.ByName("qemu")
	_, err := BootFiles(context.Background(), Options{Boards: []boards.Board{q}, Kernel: &kmod.Kernel{Dir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), "qemu") {
		t.Errorf("qemu board: %v", err)
	}
}

func TestImageRefusesOtherKernels(t *testing.T) {
	f := filepath.Join(t.TempDir(), "vmlinuz")
	os.WriteFile(f, bytes.Repeat([]byte{0x7f}, 128), 0o644)
	if _, err := Image(f); err == nil {
		t.Error("a file without the arm64 magic passed as a kernel")
	}
}

// A board variant with a passive buzzer on GPIO 12: its trees, compiled by
// dtc from the kernel's, turn the PWM controller on with GPIO 12 muxed to it.
func TestDeviceTreeRingerPWM(t *testing.T) {
	k := needKernel(t)
	for _, name := range []string{"rpi3b", "rpi4b"} {
		b, _ := boards.ByName(name)
		b.Wiring.Ringer, b.Wiring.RingerPWM = 12, true
		src, err := b.DeviceTreeSource()
		if err != nil {
			t.Fatal(err)
		}
		base, err := os.ReadFile(filepath.Join(k.Dir, "dtbs", b.DeviceTrees[0]))
		if err != nil {
			t.Fatal(err)
		}
		tree, err := DeviceTree(context.Background(), base, src)
		if err != nil {
			t.Fatal(err)
		}
		out, err := dtc(context.Background(), tree, "-I", "dtb", "-O", "dts")
		if err != nil {
			t.Fatal(err)
		}
		s := string(out)
		pwm := s[strings.Index(s, "pwm@7e20c000 {"):]
		pwm = pwm[:strings.Index(pwm, "};")]
		if !strings.Contains(pwm, `status = "okay";`) || !strings.Contains(pwm, `pinctrl-names = "default";`) {
			t.Errorf("%s: PWM controller not on:\n%s", name, pwm)
		}
		// pinctrl-0 now names the GPIO 12 group's phandle.
		group := b.PWMPinctrl[12]
		grp := s[strings.Index(s, group+" {"):]
		grp = grp[:strings.Index(grp, "};")]
		ph := grp[strings.Index(grp, "phandle = <")+len("phandle = <"):]
		ph = ph[:strings.Index(ph, ">")]
		if !strings.Contains(pwm, "pinctrl-0 = <"+ph+">;") {
			t.Errorf("%s: PWM pinctrl-0 is not %s (phandle %s):\n%s", name, group, ph, pwm)
		}
	}
}
