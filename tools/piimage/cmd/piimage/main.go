// Command piimage writes the SD card image a Raspberry Pi desk phone boots
// from (tools/piimage): the Pi's boot firmware, Debian's arm64 kernel, the
// device trees with the phone's sound card, and phoned as /init with the
// boards' kernel modules. Write the image to a card with dd or any SD card
// writer; the phone then provisions itself over DHCP and TFTP.
//
//	make image                                        # every Pi board, deskphone-rpi.img
//	make image BOARDS=rpi4b IMAGE=rpi4.img
//	cd tools/piimage && go run ./cmd/piimage -o ../../rpi4.img -boards rpi4b
//
// tools/piimage is its own module (go-diskfs and the boot firmware stay
// out of the firmware's go.mod), so the command runs inside it, where the
// go command finds the boot firmware module; phoned it builds from the
// project's module root (lab.ModuleRoot). Needs Debian's arm64 kernel
// (tools/setup/debian-kernel.sh) and dtc (device-tree-compiler); make deps
// installs both.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/deskphone/deskphone/boards"
	"github.com/deskphone/deskphone/tools/kmod"
	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/piimage"
	"github.com/deskphone/deskphone/tools/piimage/disk"
	"github.com/deskphone/deskphone/tools/qemu"
)

func main() {
	out := flag.String("o", "deskphone-rpi.img", "the image file to write")
	names := flag.String("boards", "", "comma-separated Pi boards (default: every one: "+strings.Join(piNames(), ", ")+")")
	kdir := flag.String("kernel", kmod.Dir(), "Debian's unpacked arm64 kernel (tools/setup/debian-kernel.sh)")
	version := flag.String("version", gitVersion(), "the version phoned reports")
	flag.Parse()
	if err := run(*out, *names, *kdir, *version); err != nil {
		fmt.Fprintln(os.Stderr, "piimage:", err)
		os.Exit(1)
	}
}

func piNames() []string {
	var n []string
	for _, b := range piimage.PiBoards() {
		n = append(n, b.Name)
	}
	return n
}

func run(out, names, kdir, version string) error {
	start := time.Now()
	ctx := context.Background()
	var bs []boards.Board
	for _, n := range strings.Split(names, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		b, ok := boards.ByName(n)
		if !ok || b.Kernel != boards.DebianKernel {
			return fmt.Errorf("board %q: want one of %s", n, strings.Join(piNames(), ", "))
		}
		bs = append(bs, b)
	}
	k, err := kmod.Open(kdir)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "piimage")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	root, err := lab.ModuleRoot()
	if err != nil {
		return err
	}
	phoned := filepath.Join(tmp, "phoned")
	if err := qemu.BuildArm64WithVersion(ctx, root, "./firmware/cmd/phoned", phoned, version); err != nil {
		return err
	}
	if err := piimage.Write(ctx, piimage.Options{Boards: bs, Kernel: k, Phoned: phoned, Version: version}, out); err != nil {
		return err
	}
	parts, files, err := disk.Read(out)
	if err != nil {
		return fmt.Errorf("reading %s back: %w", out, err)
	}
	fmt.Printf("piimage: %s (%s, kernel %s) in %s\n", out, version, k.Version, time.Since(start).Round(time.Millisecond))
	for _, p := range parts {
		fmt.Printf("  partition %d: type %#02x, %d MiB at %d MiB\n", p.Index, p.Type, p.SizeBytes>>20, p.StartBytes>>20)
	}
	fmt.Printf("  boot files: %d, initramfs %d KiB, kernel %d KiB\n", len(files), len(files[piimage.InitramfsFile])>>10, len(files[piimage.KernelFile])>>10)
	fmt.Printf("write it to a card: sudo dd if=%s of=/dev/sdX bs=4M conv=fsync\n", out)
	return nil
}

// gitVersion is `git describe` of the checkout, "dev" without one.
func gitVersion() string {
	b, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "dev"
	}
	return strings.TrimSpace(string(b))
}
