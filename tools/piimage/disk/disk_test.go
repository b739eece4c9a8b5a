package disk

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/deskphone/deskphone/internal/testtool"
)

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	r.Read(b)
	return b
}

// bootFiles is a boot partition in small: names with and without long file
// names, nested folders, a 40 MB kernel and an empty file.
func bootFiles() map[string][]byte {
	return map[string][]byte{
		"config.txt":                  []byte("arm_64bit=1\nkernel=kernel8.img\ninitramfs initrd.img followkernel\n"),
		"cmdline.txt":                 []byte("console=serial0,115200 quiet\n"),
		"README":                      []byte("an 8.3 name in upper case, stored without a long name\n"),
		"bcm2711-rpi-4-b.dtb":         randomBytes(1, 52_000),
		"bcm2711-rpi-400.dtb":         randomBytes(2, 52_100), // same 8.3 stem as the one above
		"kernel8.img":                 randomBytes(3, 40_000_000),
		"initrd.img":                  randomBytes(4, 1_500_001),
		"overlays/hifiberry-dac.dtbo": randomBytes(5, 1_234),
		"overlays/README":             []byte("overlays\n"),
		"deskphone/state/empty.cfg":   {},
		"deskphone/version":           []byte("v1.2.3\n"),
	}
}

func wantPartitions(bootMiB, stateMiB int64) []Partition {
	return []Partition{
		{Index: 1, Type: 0x0c, StartBytes: 4 << 20, SizeBytes: bootMiB << 20},
		{Index: 2, Type: 0xda, StartBytes: (4 + bootMiB) << 20, SizeBytes: stateMiB << 20},
	}
}

func TestRoundTrip(t *testing.T) {
	img := filepath.Join(t.TempDir(), "phone.img")
	// A file already at the path, with bytes where partition 2 will be: Write
	// must truncate it, and partition 2 must come out zeroed.
	junk := bytes.Repeat([]byte{0xff}, 1<<20)
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(img, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(junk, (4+256+8)<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(junk, 400<<20); err != nil { // past the end of the new image
		t.Fatal(err)
	}
	f.Close()

	want := bootFiles()
	if err := Write(img, Layout{}, want); err != nil {
		t.Fatal(err)
	}

	st, err := os.Stat(img)
	if err != nil {
		t.Fatal(err)
	}
	if got, wantSize := st.Size(), int64(4+256+64)<<20; got != wantSize {
		t.Errorf("image is %d bytes, want %d", got, wantSize)
	}

	parts, got, err := Read(img)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(parts, wantPartitions(256, 64)) {
		t.Errorf("partitions:\n got %+v\nwant %+v", parts, wantPartitions(256, 64))
	}
	for name, data := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: missing from the image", name)
		case !bytes.Equal(g, data):
			t.Errorf("%s: read back %d bytes that differ from the %d written", name, len(g), len(data))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: in the image but never written", name)
		}
	}

	state := make([]byte, 64<<20)
	f, err = os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(state, (4+256)<<20); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(state, func(b byte) bool { return b != 0 }); i >= 0 {
		t.Errorf("partition 2 is not zeroed: byte %d is %#x", i, state[i])
	}
}

// sfdiskJSON is the part of `sfdisk --json` output the test reads.
type sfdiskJSON struct {
	PartitionTable struct {
		Label      string `json:"label"`
		Unit       string `json:"unit"`
		SectorSize int    `json:"sectorsize"`
		Partitions []struct {
			Start int64  `json:"start"`
			Size  int64  `json:"size"`
			Type  string `json:"type"`
		} `json:"partitions"`
	} `json:"partitiontable"`
}

func TestImageAsOtherToolsSeeIt(t *testing.T) {
	for _, tc := range []struct {
		name              string
		layout            Layout
		bootMiB, stateMiB int64
		label             string
	}{
		{"default layout", Layout{}, 256, 64, "DESKPHONE"},
		{"small layout", Layout{BootMiB: 40, StateMiB: 1, BootLabel: "LAB PHONE 2"}, 40, 1, "LAB PHONE 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			img := filepath.Join(dir, "phone.img")
			files := map[string][]byte{
				"config.txt":                []byte("arm_64bit=1\n"),
				"bcm2711-rpi-4-b.dtb":       randomBytes(12, 52_000),
				"bcm2711-rpi-400.dtb":       randomBytes(13, 52_100),
				"overlays/i2s-dac.dtbo":     randomBytes(6, 3000),
				"deskphone/state/empty.cfg": {},
				"deskphone/state/last.cfg":  randomBytes(14, 700),
			}
			if err := Write(img, tc.layout, files); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}

			t.Run("MBR", func(t *testing.T) {
				if raw[510] != 0x55 || raw[511] != 0xaa {
					t.Errorf("MBR signature is % x, want 55 aa", raw[510:512])
				}
				for i, p := range wantPartitions(tc.bootMiB, tc.stateMiB) {
					e := raw[446+16*i:]
					if e[4] != p.Type {
						t.Errorf("entry %d: type %#x, want %#x", i+1, e[4], p.Type)
					}
					if got := int64(binary.LittleEndian.Uint32(e[8:])) * 512; got != p.StartBytes {
						t.Errorf("entry %d: starts at byte %d, want %d", i+1, got, p.StartBytes)
					}
					if got := int64(binary.LittleEndian.Uint32(e[12:])) * 512; got != p.SizeBytes {
						t.Errorf("entry %d: %d bytes, want %d", i+1, got, p.SizeBytes)
					}
				}
			})

			t.Run("FAT boot sector", func(t *testing.T) {
				bs := raw[4<<20 : 4<<20+512]
				if bs[510] != 0x55 || bs[511] != 0xaa {
					t.Errorf("boot sector signature is % x, want 55 aa", bs[510:512])
				}
				if got := string(bs[82:90]); got != "FAT32   " {
					t.Errorf("file system type %q, want %q", got, "FAT32   ")
				}
				if got, want := string(bs[71:82]), (tc.label + "           ")[:11]; got != want {
					t.Errorf("volume label %q, want %q", got, want)
				}
				if got := binary.LittleEndian.Uint32(bs[28:]); got != 4<<20/512 {
					t.Errorf("hidden sectors %d, want %d (the partition's start)", got, 4<<20/512)
				}
			})

			t.Run("sfdisk", func(t *testing.T) {
				sfdisk := testtool.Need(t, "sfdisk") // Debian package fdisk
				out, err := exec.Command(sfdisk, "--json", img).Output()
				if err != nil {
					t.Fatalf("sfdisk --json: %v", err)
				}
				var got sfdiskJSON
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("parsing sfdisk's output: %v\n%s", err, out)
				}
				pt := got.PartitionTable
				if pt.Label != "dos" || pt.Unit != "sectors" || pt.SectorSize != 512 {
					t.Errorf("sfdisk sees label %q, unit %q, sector size %d; want dos, sectors, 512", pt.Label, pt.Unit, pt.SectorSize)
				}
				want := wantPartitions(tc.bootMiB, tc.stateMiB)
				if len(pt.Partitions) != len(want) {
					t.Fatalf("sfdisk sees %d partitions, want %d:\n%s", len(pt.Partitions), len(want), out)
				}
				for i, p := range pt.Partitions {
					// sfdisk prints an MBR type in lower-case hex without "0x": "c", "da".
					wantType := strconv.FormatUint(uint64(want[i].Type), 16)
					if p.Start*512 != want[i].StartBytes || p.Size*512 != want[i].SizeBytes || p.Type != wantType {
						t.Errorf("sfdisk partition %d: start %d, size %d, type %q; want start %d, size %d, type %q",
							i+1, p.Start, p.Size, p.Type, want[i].StartBytes/512, want[i].SizeBytes/512, wantType)
					}
				}
			})

			t.Run("fsck.fat", func(t *testing.T) {
				fsck := testtool.Need(t, "fsck.fat") // Debian package dosfstools
				part := filepath.Join(dir, "boot.fat")
				if err := os.WriteFile(part, raw[4<<20:(4+tc.bootMiB)<<20], 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(fsck, "-n", "-v", part).CombinedOutput()
				if err != nil {
					t.Fatalf("fsck.fat -n finds errors (%v):\n%s", err, out)
				}
				if !bytes.Contains(out, []byte("32 bit entries")) {
					t.Errorf("fsck.fat does not see 32-bit FAT entries (FAT32):\n%s", out)
				}
			})

			t.Run("mtools", func(t *testing.T) {
				mcopy := testtool.Need(t, "mcopy") // Debian package mtools
				// IMAGE@@OFFSET is mtools' syntax for a file system inside an image.
				for name, want := range files {
					cmd := exec.Command(mcopy, "-i", img+"@@4M", "::"+name, "-")
					cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
					out, err := cmd.Output()
					if err != nil {
						t.Errorf("mcopy %s: %v", name, err)
						continue
					}
					if !bytes.Equal(out, want) {
						t.Errorf("mcopy reads %d bytes of %s that differ from the %d written", len(out), name, len(want))
					}
				}
			})
		})
	}
}

func TestFileTooBig(t *testing.T) {
	img := filepath.Join(t.TempDir(), "phone.img")
	err := Write(img, Layout{BootMiB: 40}, map[string][]byte{
		"config.txt":  []byte("arm_64bit=1\n"),
		"kernel8.img": make([]byte, 41<<20),
	})
	if err == nil {
		t.Fatal("Write of a 41 MiB file into a 40 MiB partition succeeded")
	}
	if !strings.Contains(err.Error(), "kernel8.img") {
		t.Errorf("error %q does not name kernel8.img", err)
	}
	if _, serr := os.Stat(img); !os.IsNotExist(serr) {
		t.Errorf("the failed image is still there (stat: %v)", serr)
	}
}

func TestWriteRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layout Layout
		files  map[string][]byte
		want   string // in the error
	}{
		{"names differing in case", Layout{}, map[string][]byte{"Config.txt": nil, "config.txt": nil}, "differ only in case"},
		{"a file that is also a folder", Layout{}, map[string][]byte{"overlays": nil, "overlays/x.dtbo": nil}, `"overlays" is both`},
		{"a folder differing in case", Layout{}, map[string][]byte{"Overlays": nil, "overlays/x.dtbo": nil}, `"Overlays" is both`},
		{"a dot file", Layout{}, map[string][]byte{"a/.hidden": nil}, "starts with a dot"},
		{"an absolute path", Layout{}, map[string][]byte{"/config.txt": nil}, "not a clean relative"},
		{"a dot-dot path", Layout{}, map[string][]byte{"a/../b": nil}, "not a clean relative"},
		{"a non-ASCII name", Layout{}, map[string][]byte{"café.txt": nil}, "printable ASCII"},
		{"a colon", Layout{}, map[string][]byte{"a:b": nil}, "printable ASCII"},
		{"a trailing dot", Layout{}, map[string][]byte{"a.": nil}, "ends with a space or dot"},
		{"a long label", Layout{BootLabel: "DESKPHONE-BOOT"}, nil, "longer than FAT's 11"},
		{"a lower-case label", Layout{BootLabel: "boot"}, nil, "FAT labels take"},
		{"a negative size", Layout{StateMiB: -1}, nil, "negative"},
		{"a boot partition too small for FAT32", Layout{BootMiB: 32}, nil, "would read it as FAT16"},
		{"same 8.3 name from a cut extension", Layout{BootMiB: 40}, map[string][]byte{"o/x.dtb": {1}, "o/x.dtbo": {2}}, "both get the 8.3 name X.DTB"},
		{"same 8.3 name from a replaced character", Layout{BootMiB: 40}, map[string][]byte{"a+b": {1}, "a,b": {2}}, "both get the 8.3 name A_B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "phone.img")
			err := Write(img, tc.layout, tc.files)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write: error %v, want one containing %q", err, tc.want)
			}
			if _, serr := os.Stat(img); !os.IsNotExist(serr) {
				t.Errorf("the failed image is still there (stat: %v)", serr)
			}
		})
	}
	// The smallest FAT32 boot partition works.
	img := filepath.Join(t.TempDir(), "phone.img")
	if err := Write(img, Layout{BootMiB: 33, StateMiB: 1}, map[string][]byte{"config.txt": {}}); err != nil {
		t.Fatalf("Write with a 33 MiB boot partition: %v", err)
	}
}

func TestReadNotAnImage(t *testing.T) {
	// valid returns a good image of 40 MiB for the cases that damage one.
	valid := func(t *testing.T) []byte {
		img := filepath.Join(t.TempDir(), "good.img")
		if err := Write(img, Layout{BootMiB: 40, StateMiB: 1}, map[string][]byte{"a/b.txt": randomBytes(7, 100_000)}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const part1 = 4 << 20
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
		want string
	}{
		{"empty file", func(*testing.T) []byte { return nil }, "too small"},
		{"random bytes", func(*testing.T) []byte { return randomBytes(8, 5<<20) }, "no MBR"},
		{"MBR signature over random bytes", func(*testing.T) []byte {
			b := randomBytes(9, 5<<20)
			b[510], b[511] = 0x55, 0xaa
			return b
		}, "disk: "},
		{"partition past the end", func(t *testing.T) []byte { return valid(t)[:20<<20] }, "not inside"},
		{"no file system in partition 1", func(t *testing.T) []byte {
			b := valid(t)
			clear(b[part1 : part1+512])
			return b
		}, "no FAT file system"},
		{"FAT boot sector of random bytes", func(t *testing.T) []byte {
			b := valid(t)
			copy(b[part1:part1+510], randomBytes(10, 510))
			return b
		}, "no FAT file system"},
		{"first FAT overwritten", func(t *testing.T) []byte {
			b := valid(t)
			copy(b[part1+32*512:], randomBytes(11, 4096))
			return b
		}, "partition 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "bad.img")
			if err := os.WriteFile(img, tc.data(t), 0o644); err != nil {
				t.Fatal(err)
			}
			parts, files, err := Read(img)
			if err == nil {
				t.Fatalf("Read succeeded with %d partitions and %d files", len(parts), len(files))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one containing %q", err, tc.want)
			}
		})
	}
	if _, _, err := Read(filepath.Join(t.TempDir(), "missing.img")); err == nil {
		t.Error("Read of a missing file succeeded")
	}
}

// TestReadImageFromOtherTools reads an image made the way Raspberry Pi OS's
// are, with sfdisk, mkfs.fat and mtools, which store a lower-case 8.3 name
// with case flags instead of a long name.
func TestReadImageFromOtherTools(t *testing.T) {
	tools := map[string]string{}
	for _, name := range []string{"sfdisk", "mkfs.fat", "mcopy", "mmd"} {
		tools[name] = testtool.Need(t, name) // Debian packages fdisk, dosfstools, mtools
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "other.img")
	run := func(stdin string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(tools[name], args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 80<<20); err != nil {
		t.Fatal(err)
	}
	// Boot: 64 MiB of FAT32 at 4 MiB; then a Linux partition to the end.
	run("label: dos\nstart=8192, size=131072, type=c\nstart=139264, type=83\n", "sfdisk", "-q", img)
	run("", "mkfs.fat", "-F", "32", "-s", "1", "--offset", "8192", "-n", "BOOTFS", img, "65536")
	want := map[string][]byte{
		"config.txt":                   []byte("arm_64bit=1\n"),
		"README.TXT":                   []byte("upper case\n"),
		"overlays/bcm2711-rpi-4-b.dtb": randomBytes(15, 100_000),
	}
	run("", "mmd", "-i", img+"@@4M", "::overlays")
	for name, data := range want {
		src := filepath.Join(dir, "src")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		run("", "mcopy", "-i", img+"@@4M", src, "::"+name)
	}

	parts, got, err := Read(img)
	if err != nil {
		t.Fatal(err)
	}
	wantParts := []Partition{
		{Index: 1, Type: 0x0c, StartBytes: 4 << 20, SizeBytes: 64 << 20},
		{Index: 2, Type: 0x83, StartBytes: 68 << 20, SizeBytes: 12 << 20},
	}
	if !slices.Equal(parts, wantParts) {
		t.Errorf("partitions:\n got %+v\nwant %+v", parts, wantParts)
	}
	if len(got) != len(want) {
		t.Errorf("read %d files, want %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s: read back %d bytes, want the %d written", name, len(got[name]), len(data))
		}
	}
}
