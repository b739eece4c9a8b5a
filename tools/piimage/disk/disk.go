package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strings"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/backend/file"
	dfdisk "github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

const (
	sectorSize = 512
	mib        = 1 << 20

	// bootStart is where partition 1 begins: 4 MiB, the largest SD card
	// allocation unit, so no partition straddles one (see doc.go).
	bootStart = 4 * mib

	defaultBootMiB   = 256
	defaultStateMiB  = 64
	defaultBootLabel = "DESKPHONE"

	typeBoot  = byte(mbr.Fat32LBA) // 0x0c, FAT32 addressed by LBA
	typeState = byte(0xda)         // "non-FS data"

	// minFAT32Clusters is the smallest cluster count of a FAT32 volume; with
	// fewer clusters every reader takes the volume for FAT16 (Microsoft's FAT
	// specification, "FAT type determination").
	minFAT32Clusters = 65525
)

// Layout is the image's partitioning.
type Layout struct {
	BootMiB   int    // size of partition 1, FAT32 (MBR type 0x0c, LBA), label BootLabel; 0 means 256
	StateMiB  int    // size of partition 2, a raw partition (MBR type 0xda, "non-FS data") the firmware keeps its last good configuration, boot record and A/B firmware slots on (firmware/update); 0 means 64
	BootLabel string // FAT volume label, "" means "DESKPHONE"
}

// withDefaults fills in the zero fields and checks the result.
func (l Layout) withDefaults() (Layout, error) {
	if l.BootMiB == 0 {
		l.BootMiB = defaultBootMiB
	}
	if l.StateMiB == 0 {
		l.StateMiB = defaultStateMiB
	}
	if l.BootLabel == "" {
		l.BootLabel = defaultBootLabel
	}
	if l.BootMiB < 0 || l.StateMiB < 0 {
		return l, fmt.Errorf("disk: negative partition size (boot %d MiB, state %d MiB)", l.BootMiB, l.StateMiB)
	}
	// MBR sector numbers are 32 bits; FAT32 as go-diskfs makes it stops at 2 TiB too.
	if total := int64(bootStart) + int64(l.BootMiB+l.StateMiB)*mib; total/sectorSize > 1<<32-1 {
		return l, fmt.Errorf("disk: image of %d bytes is beyond the 2 TiB an MBR can address", total)
	}
	if err := checkLabel(l.BootLabel); err != nil {
		return l, err
	}
	return l, nil
}

// checkLabel accepts what fits the 11-byte, upper-case, 8.3-character FAT
// volume label field; go-diskfs would silently cut a longer label and write
// lower case or other characters that DOS, Windows and fsck.fat reject.
func checkLabel(label string) error {
	if len(label) > 11 {
		return fmt.Errorf("disk: volume label %q is longer than FAT's 11 characters", label)
	}
	if label[0] == ' ' {
		return fmt.Errorf("disk: volume label %q starts with a space", label)
	}
	for _, c := range []byte(label) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || strings.IndexByte("!#$%&'()-@^_`{}~", c) >= 0) {
			return fmt.Errorf("disk: volume label %q has %q; FAT labels take A-Z, 0-9, space and !#$%%&'()-@^_`{}~", label, c)
		}
	}
	return nil
}

// checkName accepts a key of Write's boot map: a slash-separated relative path
// whose elements are names FAT can hold and go-diskfs round-trips.
func checkName(name string) error {
	if name == "." || !iofs.ValidPath(name) {
		return fmt.Errorf("disk: file name %q is not a clean relative slash-separated path", name)
	}
	for _, elem := range strings.Split(name, "/") {
		switch {
		case len(elem) > 255:
			return fmt.Errorf("disk: file name %q: %q is longer than FAT's 255 characters", name, elem)
		case elem[0] == '.':
			// go-diskfs derives an empty 8.3 name from ".x" and then cannot list the file.
			return fmt.Errorf("disk: file name %q: %q starts with a dot", name, elem)
		case elem[0] == ' ' || strings.HasSuffix(elem, " ") || strings.HasSuffix(elem, "."):
			return fmt.Errorf("disk: file name %q: %q starts with a space or ends with a space or dot, which FAT drops", name, elem)
		}
		for _, c := range []byte(elem) {
			// go-diskfs stores long names as UCS-2 but sizes them in UTF-8 bytes,
			// so only ASCII names come back unchanged.
			if c < 0x20 || c > 0x7e || strings.IndexByte(`"*:<>?\|`, c) >= 0 {
				return fmt.Errorf("disk: file name %q has %q; FAT names here are printable ASCII without \"*:<>?\\|", name, c)
			}
		}
	}
	return nil
}

// plan checks the names of boot and returns, sorted, the folders to create
// (parents before children) and the files.
func plan(boot map[string][]byte) (dirs, files []string, err error) {
	files = make([]string, 0, len(boot))
	folded := make(map[string]string, len(boot)) // lower-cased path -> key
	isDir := map[string]bool{}
	for name := range boot {
		if err := checkName(name); err != nil {
			return nil, nil, err
		}
		if other, ok := folded[strings.ToLower(name)]; ok {
			return nil, nil, fmt.Errorf("disk: file names %q and %q differ only in case, which FAT does not tell apart", other, name)
		}
		folded[strings.ToLower(name)] = name
		files = append(files, name)
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			isDir[strings.ToLower(d)] = true
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	for _, name := range files {
		if isDir[strings.ToLower(name)] {
			return nil, nil, fmt.Errorf("disk: %q is both a file and a folder of other files", name)
		}
	}
	slices.Sort(dirs) // "a" sorts before "a/b"
	slices.Sort(files)
	return dirs, files, nil
}

// Write creates (or truncates) the image file at path: an MBR with partition 1 starting at 4 MiB (aligned for SD cards), partition 2 right after it, and the files in boot copied into partition 1's FAT32 file system. Keys of boot are slash-separated paths relative to the root ("config.txt", "overlays/x.dtbo"); folders are created as needed. Partition 2 is left zeroed. It returns an error naming the file when one does not fit or cannot be written.
//
// On any error the half-written image file is removed.
func Write(path string, l Layout, boot map[string][]byte) (err error) {
	l, err = l.withDefaults()
	if err != nil {
		return err
	}
	dirs, files, err := plan(boot)
	if err != nil {
		return err
	}

	bootSectors := uint32(l.BootMiB * mib / sectorSize)
	stateSectors := uint32(l.StateMiB * mib / sectorSize)
	size := int64(bootStart) + int64(l.BootMiB+l.StateMiB)*mib

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("disk: %w", err)
	}
	defer func() {
		// Closing the go-diskfs disk below closes f too; a second Close only
		// reports os.ErrClosed.
		if cerr := f.Close(); cerr != nil && !errors.Is(cerr, os.ErrClosed) && err == nil {
			err = fmt.Errorf("disk: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	// A sparse file: partition 2 and the unused parts of partition 1 read as
	// zeroes without being written.
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("disk: sizing %s: %w", path, err)
	}

	d, err := diskfs.OpenBackend(file.New(f, false), diskfs.WithSectorSize(sectorSize))
	if err != nil {
		return fmt.Errorf("disk: %s: %w", path, err)
	}
	defer func() {
		if cerr := d.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("disk: closing %s: %w", path, cerr)
		}
	}()

	table := &mbr.Table{
		LogicalSectorSize:  sectorSize,
		PhysicalSectorSize: sectorSize,
		Partitions: []*mbr.Partition{
			{Index: 1, Type: mbr.Type(typeBoot), Start: bootStart / sectorSize, Size: bootSectors},
			{Index: 2, Type: mbr.Type(typeState), Start: bootStart/sectorSize + bootSectors, Size: stateSectors},
		},
	}
	if err := d.Partition(table); err != nil {
		return fmt.Errorf("disk: writing the partition table of %s: %w", path, err)
	}

	fsys, err := d.CreateFilesystem(dfdisk.FilesystemSpec{
		Partition:   1,
		FSType:      filesystem.TypeFat32,
		VolumeLabel: l.BootLabel,
	})
	if err != nil {
		return fmt.Errorf("disk: making a FAT32 file system of %d MiB in %s: %w", l.BootMiB, path, err)
	}
	if err := checkFAT32(f, bootStart, l.BootMiB); err != nil {
		return err
	}

	for _, dir := range dirs {
		if err := fsys.Mkdir(dir); err != nil {
			return fmt.Errorf("disk: making folder %s in %s: %w", dir, path, err)
		}
	}
	for _, name := range files {
		if err := writeFile(fsys, name, boot[name]); err != nil {
			return fmt.Errorf("disk: writing %s (%d bytes) into %s: %w", name, len(boot[name]), path, err)
		}
	}
	if err := checkShortNames(fsys, dirs); err != nil {
		return err
	}
	if err := finishFAT32(f, bootStart, fsys, dirs); err != nil {
		return fmt.Errorf("disk: finishing the FAT32 file system in %s: %w", path, err)
	}
	return nil
}

// writeFile writes one file with a single Write: go-diskfs rewrites both FATs
// on every Write call, so writing in pieces would be slow.
func writeFile(fsys filesystem.FileSystem, name string, data []byte) error {
	w, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_TRUNC)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		n, err := w.Write(data)
		if err == nil && n != len(data) {
			err = fmt.Errorf("wrote %d bytes of %d", n, len(data))
		}
		if err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// checkFAT32 reads back the boot sector go-diskfs wrote at offset start of f
// and fails if its cluster count makes the volume FAT16 to every reader.
func checkFAT32(f io.ReaderAt, start int64, bootMiB int) error {
	bs := make([]byte, sectorSize)
	if _, err := f.ReadAt(bs, start); err != nil {
		return fmt.Errorf("disk: reading back the FAT boot sector: %w", err)
	}
	bytesPerSector := uint32(binary.LittleEndian.Uint16(bs[11:]))
	sectorsPerCluster := uint32(bs[13])
	reserved := uint32(binary.LittleEndian.Uint16(bs[14:]))
	fats := uint32(bs[16])
	total := binary.LittleEndian.Uint32(bs[32:])
	fatSectors := binary.LittleEndian.Uint32(bs[36:])
	if bytesPerSector == 0 || sectorsPerCluster == 0 || total < reserved+fats*fatSectors {
		return fmt.Errorf("disk: go-diskfs wrote a FAT boot sector that does not add up (%d bytes/sector, %d sectors/cluster)", bytesPerSector, sectorsPerCluster)
	}
	clusters := (total - reserved - fats*fatSectors) / sectorsPerCluster
	if clusters < minFAT32Clusters {
		return fmt.Errorf("disk: a boot partition of %d MiB has %d clusters of %d bytes, fewer than the %d of a FAT32 volume; the Pi would read it as FAT16 (make it at least 33 MiB)",
			bootMiB, clusters, sectorsPerCluster*bytesPerSector, minFAT32Clusters)
	}
	return nil
}

// shortNamer is what go-diskfs's FAT FileInfo offers beyond fs.FileInfo.
type shortNamer interface{ ShortName() string }

// checkShortNames fails when two entries of one folder got the same 8.3 name:
// go-diskfs only makes 8.3 names unique ("ABCDEF~2") when it cuts a name
// longer than 8 characters, not when it replaces characters ("a+b" and "a,b"
// both become "A_B") or cuts an extension ("x.dtb" and "x.dtbo" both become
// "X.DTB"). Duplicate 8.3 names are a corrupt FAT to fsck.fat and Windows.
func checkShortNames(fsys filesystem.FileSystem, dirs []string) error {
	for _, dir := range append([]string{"."}, dirs...) {
		entries, err := fsys.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("disk: reading back folder %s: %w", dir, err)
		}
		seen := make(map[string]string, len(entries))
		for _, e := range entries {
			info, err := e.Info()
			if err != nil {
				return fmt.Errorf("disk: reading back %s: %w", path.Join(dir, e.Name()), err)
			}
			sn, ok := info.(shortNamer)
			if !ok {
				return fmt.Errorf("disk: go-diskfs's file info (%T) has no ShortName", info)
			}
			short := strings.ToUpper(sn.ShortName())
			if other, dup := seen[short]; dup {
				return fmt.Errorf("disk: %s and %s both get the 8.3 name %s, which FAT needs to be unique in a folder; rename one",
					path.Join(dir, other), path.Join(dir, e.Name()), short)
			}
			seen[short] = e.Name()
		}
	}
	return nil
}

// Partition describes one MBR partition found in an image.
type Partition struct {
	Index      int   // 1-based
	Type       byte  // MBR partition type
	StartBytes int64 // offset in the image
	SizeBytes  int64
}

// Read opens the image at path and returns its MBR partitions and every regular file in partition 1's FAT file system (with their bytes), keyed as Write takes them.
//
// Partitions of type 0 (unused MBR slots) are left out.
func Read(path string) (parts []Partition, files map[string][]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("disk: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("disk: %w", err)
	}
	if st.Size() < sectorSize {
		return nil, nil, fmt.Errorf("disk: %s is %d bytes, too small to hold an MBR", path, st.Size())
	}

	// go-diskfs trusts what it reads: a corrupt directory or FAT chain can make
	// it index past a slice. Report that as a bad image, not a crash.
	defer func() {
		if r := recover(); r != nil {
			parts, files = nil, nil
			err = fmt.Errorf("disk: %s: malformed FAT file system (go-diskfs panicked: %v)", path, r)
		}
	}()

	d, err := diskfs.OpenBackend(file.New(f, true), diskfs.WithSectorSize(sectorSize))
	if err != nil {
		return nil, nil, fmt.Errorf("disk: %s: %w", path, err)
	}
	table, ok := d.Table.(*mbr.Table)
	if !ok {
		if d.Table == nil {
			return nil, nil, fmt.Errorf("disk: %s has no MBR partition table", path)
		}
		return nil, nil, fmt.Errorf("disk: %s has a %s partition table, not an MBR", path, d.Table.Type())
	}
	for _, p := range table.Partitions {
		if p.Type == mbr.Empty {
			continue
		}
		part := Partition{Index: p.Index, Type: byte(p.Type), StartBytes: p.GetStart(), SizeBytes: p.GetSize()}
		if part.StartBytes == 0 || part.SizeBytes == 0 || part.StartBytes+part.SizeBytes > st.Size() {
			return nil, nil, fmt.Errorf("disk: %s: partition %d (%d bytes at %d) is not inside the %d-byte image",
				path, part.Index, part.SizeBytes, part.StartBytes, st.Size())
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 || parts[0].Index != 1 {
		return nil, nil, fmt.Errorf("disk: %s has no partition 1", path)
	}

	if err := checkBootSector(f, parts[0]); err != nil {
		return nil, nil, fmt.Errorf("disk: %s: partition 1 holds no FAT file system: %w", path, err)
	}
	fsys, err := d.GetFilesystem(1)
	if err != nil {
		return nil, nil, fmt.Errorf("disk: %s: partition 1: %w", path, err)
	}
	switch fsys.Type() {
	case filesystem.TypeFat32, filesystem.TypeFat16, filesystem.TypeFat12:
	default:
		return nil, nil, fmt.Errorf("disk: %s: partition 1 holds no FAT file system", path)
	}
	files = map[string][]byte{}
	if err := readDir(fsys, ".", files); err != nil {
		return nil, nil, fmt.Errorf("disk: %s: %w", path, err)
	}
	return parts, files, nil
}

// readDir adds every regular file under dir to files, recursively.
func readDir(fsys filesystem.FileSystem, dir string, files map[string][]byte) error {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := path.Join(dir, e.Name())
		if e.IsDir() {
			if err := readDir(fsys, name, files); err != nil {
				return err
			}
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		data, err := readFile(fsys, name)
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		files[name] = data
	}
	return nil
}

// readFile reads a whole file with a single Read into a buffer of its size:
// go-diskfs walks the file's whole cluster chain on every Read call, so
// io.ReadAll's small reads would take time quadratic in the file's size.
func readFile(fsys filesystem.FileSystem, name string) ([]byte, error) {
	r, err := fsys.OpenFile(name, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	info, err := r.Stat()
	if err != nil {
		return nil, err
	}
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, err
	}
	return data, nil
}

// checkBootSector checks that the FAT geometry in the boot sector of p fits
// inside p before go-diskfs allocates a buffer of the FAT's stated size.
func checkBootSector(f io.ReaderAt, p Partition) error {
	bs := make([]byte, sectorSize)
	if _, err := f.ReadAt(bs, p.StartBytes); err != nil {
		return err
	}
	if bs[510] != 0x55 || bs[511] != 0xaa {
		return errors.New("no 0x55AA boot sector signature")
	}
	bytesPerSector := int64(binary.LittleEndian.Uint16(bs[11:]))
	fats := int64(bs[16])
	fatSectors := int64(binary.LittleEndian.Uint16(bs[22:])) // FAT12/16
	if fatSectors == 0 {
		fatSectors = int64(binary.LittleEndian.Uint32(bs[36:])) // FAT32
	}
	switch bytesPerSector {
	case 512, 1024, 2048, 4096:
	default:
		return fmt.Errorf("%d bytes per sector", bytesPerSector)
	}
	if fats == 0 || fatSectors == 0 || fats*fatSectors*bytesPerSector >= p.SizeBytes {
		return fmt.Errorf("%d FATs of %d sectors do not fit a %d-byte partition", fats, fatSectors, p.SizeBytes)
	}
	return nil
}
