package disk

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// realisticBoot is a full boot partition: a 64 MB kernel (the largest Write
// must handle), a 15 MB initramfs, 10 MB of firmware in 10 files and 300
// overlays, as Raspberry Pi OS ships.
func realisticBoot() map[string][]byte {
	boot := map[string][]byte{
		"kernel8.img": randomBytes(20, 64_000_000),
		"initrd.img":  randomBytes(21, 15_000_000),
		"config.txt":  []byte("arm_64bit=1\n"),
		"cmdline.txt": []byte("console=serial0,115200\n"),
	}
	for i := range 10 {
		boot[fmt.Sprintf("start%d.elf", i)] = randomBytes(uint64(30+i), 1_000_000)
	}
	for i := range 300 {
		boot[fmt.Sprintf("overlays/overlay-number-%d.dtbo", i)] = randomBytes(uint64(100+i), 2_000+i)
	}
	return boot
}

// BenchmarkWriteRead writes and reads back a full boot partition.
func BenchmarkWriteRead(b *testing.B) {
	boot := realisticBoot()
	img := filepath.Join(b.TempDir(), "phone.img")
	for b.Loop() {
		if err := Write(img, Layout{}, boot); err != nil {
			b.Fatal(err)
		}
		_, got, err := Read(img)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(boot) || !bytes.Equal(got["kernel8.img"], boot["kernel8.img"]) {
			b.Fatalf("read back %d files (want %d), kernel8.img equal: %v", len(got), len(boot), bytes.Equal(got["kernel8.img"], boot["kernel8.img"]))
		}
	}
}
