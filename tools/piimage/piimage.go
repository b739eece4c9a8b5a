package piimage

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/tools/kmod"
	"github.com/deskphone/deskphone/tools/piimage/disk"
	"github.com/deskphone/deskphone/tools/qemu"

	// The Raspberry Pi boot firmware is a module in this module's go.mod
	// (tools/piimage/go.mod); this import keeps it there.
	_ "github.com/gokrazy/firmware"
)

// FirmwareModule is the Go module the Pi's boot firmware comes from.
const FirmwareModule = "github.com/gokrazy/firmware"

// FirmwareFiles are the boot firmware's files the image carries: the Pi 3
// and Zero 2 W boot ROM loads bootcode.bin, which starts start.elf; a Pi 4
// has its boot loader in EEPROM and starts start4.elf. fixup files go with
// their start files.
var FirmwareFiles = []string{"bootcode.bin", "start.elf", "fixup.dat", "start4.elf", "fixup4.dat", "LICENSE.broadcom"}

// Names of the files the image's config.txt points at.
const (
	KernelFile    = "kernel8.img" // the uncompressed arm64 Image
	InitramfsFile = "initrd.gz"
)

// Options say what goes into an image.
type Options struct {
	// Boards the image boots on: Raspberry Pi boards (Kernel is
	// boards.DebianKernel). Empty: all of them; one image then serves a
	// whole mixed fleet, the boot firmware picking each board's section.
	Boards []boards.Board
	Kernel *kmod.Kernel // Debian's kernel, unpacked
	Phoned string       // the linux/arm64 phoned binary, /init of the initramfs
	// Firmware is the folder holding FirmwareFiles; "" means the
	// FirmwareModule's folder.
	Firmware string
	Version  string // named in config.txt
	// Cmdline is the kernel command line (cmdline.txt); "" means
	// DefaultCmdline.
	Cmdline string
}

// DefaultCmdline puts the console on the 40-pin header's UART (GPIO 14/15,
// the mini UART, ttyS1 in the mainline device trees) and restarts the phone
// 10 s after a kernel panic: a desk phone must come back by itself.
const DefaultCmdline = "console=ttyS1,115200 panic=10"

// PiBoards returns every board built on Debian's kernel for a Pi.
func PiBoards() []boards.Board {
	var bs []boards.Board
	for _, b := range boards.All() {
		if b.Kernel == boards.DebianKernel {
			bs = append(bs, b)
		}
	}
	return bs
}

// BootFiles returns the boot partition's files: the boot firmware,
// config.txt, cmdline.txt, the kernel, each board's device trees with the
// phone's sound card added, and the initramfs (phoned as /init, the boards'
// kernel modules in load order).
func BootFiles(ctx context.Context, o Options) (map[string][]byte, error) {
	bs := o.Boards
	if len(bs) == 0 {
		bs = PiBoards()
	}
	if o.Kernel == nil {
		return nil, errors.New("piimage: no kernel")
	}
	files := map[string][]byte{}
	var modules []string
	for _, b := range bs {
		if b.Kernel != boards.DebianKernel {
			return nil, fmt.Errorf("piimage: board %s does not boot Debian's kernel (%q); it is no Raspberry Pi board", b.Name, b.Kernel)
		}
		src, err := b.DeviceTreeSource()
		if err != nil {
			return nil, fmt.Errorf("piimage: %w", err)
		}
		for _, dt := range b.DeviceTrees {
			base, err := os.ReadFile(filepath.Join(o.Kernel.Dir, "dtbs", filepath.FromSlash(dt)))
			if err != nil {
				return nil, fmt.Errorf("piimage: board %s: %w", b.Name, err)
			}
			tree, err := DeviceTree(ctx, base, src)
			if err != nil {
				return nil, fmt.Errorf("piimage: board %s: %s: %w", b.Name, dt, err)
			}
			files[path.Base(dt)] = tree
		}
		for _, m := range b.Modules {
			if !slices.Contains(modules, m) {
				modules = append(modules, m)
			}
		}
	}

	fw := o.Firmware
	if fw == "" {
		var err error
		if fw, err = qemu.ModuleDir(ctx, FirmwareModule); err != nil {
			return nil, fmt.Errorf("piimage: boot firmware: %w", err)
		}
	}
	for _, f := range FirmwareFiles {
		b, err := os.ReadFile(filepath.Join(fw, f))
		if err != nil {
			return nil, fmt.Errorf("piimage: boot firmware: %w", err)
		}
		files[f] = b
	}

	kernel, err := Image(filepath.Join(o.Kernel.Dir, "vmlinuz"))
	if err != nil {
		return nil, err
	}
	files[KernelFile] = kernel

	mods, err := o.Kernel.Files(modules)
	if err != nil {
		return nil, fmt.Errorf("piimage: %w", err)
	}
	var initrd bytes.Buffer
	if err := qemu.WriteInitramfs(&initrd, o.Phoned, mods); err != nil {
		return nil, fmt.Errorf("piimage: %w", err)
	}
	files[InitramfsFile] = initrd.Bytes()

	files["config.txt"] = []byte(ConfigTxt(bs, o.Version))
	cmdline := o.Cmdline
	if cmdline == "" {
		cmdline = DefaultCmdline
	}
	files["cmdline.txt"] = []byte(cmdline + "\n")
	return files, nil
}

// Write builds the SD card image at out.
func Write(ctx context.Context, o Options, out string) error {
	files, err := BootFiles(ctx, o)
	if err != nil {
		return err
	}
	return disk.Write(out, disk.Layout{}, files)
}

// ConfigTxt is the boot firmware's config.txt for the boards: the settings
// every board shares, then each board's own section (its conditional
// filter and device tree), then [all].
func ConfigTxt(bs []boards.Board, version string) string {
	var b strings.Builder
	names := make([]string, len(bs))
	for i, bd := range bs {
		names[i] = bd.Name
	}
	fmt.Fprintf(&b, "# deskphone %s for %s, written by tools/piimage.\n", version, strings.Join(names, ", "))
	b.WriteString(`# Read by the Raspberry Pi boot firmware. The sound card and the I2C bus
# of the codec are in the device trees (boards/phone.dtsi), not overlays.
arm_64bit=1
# A mainline kernel, as Raspberry Pi documents the setting for one: the
# firmware prefers mainline device-tree names (the files below are those).
upstream_kernel=1
kernel=` + KernelFile + `
initramfs ` + InitramfsFile + ` followkernel
# The console on GPIO 14/15 (the mini UART needs a fixed core clock).
enable_uart=1
disable_splash=1
`)
	for _, bd := range bs {
		fmt.Fprintf(&b, "\n# %s (%s)\n", bd.Name, bd.Model)
		for _, l := range bd.Config {
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("\n[all]\n")
	return b.String()
}

// DeviceTree adds src (a board's DeviceTreeSource) to a compiled device
// tree: it decompiles the tree with dtc, appends the source and compiles it
// again (Debian's device trees carry no labels, so an overlay could not
// refer to their nodes; the source names them by path).
func DeviceTree(ctx context.Context, base []byte, src string) ([]byte, error) {
	if _, err := exec.LookPath("dtc"); err != nil {
		return nil, errors.New("dtc not found: install device-tree-compiler (tools/setup/install-deps.sh does)")
	}
	dts, err := dtc(ctx, base, "-I", "dtb", "-O", "dts")
	if err != nil {
		return nil, fmt.Errorf("decompiling: %w", err)
	}
	dts = append(dts, "\n"+src...)
	out, err := dtc(ctx, dts, "-I", "dts", "-O", "dtb")
	if err != nil {
		return nil, fmt.Errorf("adding the phone's nodes: %w", err)
	}
	return out, nil
}

func dtc(ctx context.Context, in []byte, args ...string) ([]byte, error) {
	// -q: the kernel's trees give dtc's style warnings (unit names and
	// the like) that are not errors.
	cmd := exec.CommandContext(ctx, "dtc", append([]string{"-q"}, args...)...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("dtc %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Image returns the arm64 kernel Image in the file at p, gunzipping it
// when it is compressed (Debian's vmlinuz is): the Pi's boot firmware and
// QEMU both take the plain Image. It checks the arm64 Image header's magic.
func Image(p string) ([]byte, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("piimage: kernel: %w", err)
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("piimage: kernel %s: %w", p, err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("piimage: kernel %s: %w", p, err)
		}
	}
	if !IsArm64Image(raw) {
		return nil, fmt.Errorf("piimage: kernel %s is not an arm64 Image (no ARM\\x64 magic at offset 0x38)", p)
	}
	return raw, nil
}

// IsArm64Image reports whether b starts with an arm64 Linux Image header.
func IsArm64Image(b []byte) bool {
	return len(b) >= 0x40 && string(b[0x38:0x3c]) == "ARM\x64"
}
