package disk

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"

	"github.com/diskfs/go-diskfs/filesystem"
)

// finishFAT32 corrects, in the FAT32 volume at offset start of f, four things
// go-diskfs (v1.9.4) leaves that fsck.fat and Windows's chkdsk report as
// errors:
//
//   - the boot sector's hidden sectors field (offset 28) is 0 instead of the
//     partition's first sector;
//   - an empty file owns a cluster, where FAT wants first cluster 0 and no
//     chain;
//   - the ".." entry of a folder in the root names cluster 2 (the root's first
//     cluster), where FAT wants 0;
//   - the FSInfo sector's count of free clusters is left "unknown".
//
// It runs after the last change go-diskfs makes, since go-diskfs rewrites these
// as it goes. dirs are all folders of the volume but the root. Both FATs and
// both copies of the boot and FSInfo sectors are patched.
func finishFAT32(f *os.File, start int64, fsys filesystem.FileSystem, dirs []string) error {
	le := binary.LittleEndian
	bs := make([]byte, sectorSize)
	if _, err := f.ReadAt(bs, start); err != nil {
		return err
	}
	bps := int64(le.Uint16(bs[11:]))
	spc := int64(bs[13])
	reserved := int64(le.Uint16(bs[14:]))
	fats := int64(bs[16])
	total := int64(le.Uint32(bs[32:]))
	fatSectors := int64(le.Uint32(bs[36:]))
	rootCluster := le.Uint32(bs[44:])
	fsInfo := int64(le.Uint16(bs[48:]))
	backup := int64(le.Uint16(bs[50:]))
	dataStart := reserved + fats*fatSectors // in sectors
	clusters := (total - dataStart) / spc
	clusterOffset := func(c uint32) int64 { return start + (dataStart+int64(c-2)*spc)*bps }

	fat := make([]byte, fatSectors*bps)
	if _, err := f.ReadAt(fat, start+reserved*bps); err != nil {
		return err
	}
	entryOf := func(c uint32) uint32 { return le.Uint32(fat[4*c:]) & 0x0fffffff }

	// The folders with the clusters of each: the root's from the boot sector,
	// the others from go-diskfs.
	type folder struct {
		name  string
		chain []uint32
	}
	folders := []folder{{name: "."}}
	for c := rootCluster; c >= 2 && c < 0x0ffffff8; c = entryOf(c) {
		folders[0].chain = append(folders[0].chain, c)
		if len(folders[0].chain) > int(clusters) {
			return fmt.Errorf("the root folder's cluster chain loops")
		}
	}
	for _, dir := range dirs {
		chain, err := clusterChain(fsys, dir)
		if err != nil {
			return fmt.Errorf("folder %s: %w", dir, err)
		}
		folders = append(folders, folder{dir, chain})
	}

	fatChanged := false
	for _, dir := range folders {
		topLevel := dir.name != "." && !strings.Contains(dir.name, "/")
		buf := make([]byte, spc*bps)
		for _, c := range dir.chain {
			if _, err := f.ReadAt(buf, clusterOffset(c)); err != nil {
				return err
			}
			changed, end := false, false
			for i := 0; i < len(buf) && !end; i += 32 {
				e := buf[i : i+32]
				attr := e[11]
				first := uint32(le.Uint16(e[20:]))<<16 | uint32(le.Uint16(e[26:]))
				switch {
				case e[0] == 0x00: // no entries after this one
					end = true
				case e[0] == 0xe5 || attr&0x0f == 0x0f: // deleted, or part of a long name
				case topLevel && attr&0x10 != 0 && string(e[:11]) == "..         " && first != 0:
					clear(e[20:22])
					clear(e[26:28])
					changed = true
				case attr&0x18 == 0 && le.Uint32(e[28:]) == 0 && first != 0: // an empty file
					for c := first; c >= 2 && c < 0x0ffffff8; {
						next := entryOf(c)
						le.PutUint32(fat[4*c:], le.Uint32(fat[4*c:])&0xf0000000)
						c = next
					}
					clear(e[20:22])
					clear(e[26:28])
					changed, fatChanged = true, true
				}
			}
			if changed {
				if _, err := f.WriteAt(buf, clusterOffset(c)); err != nil {
					return err
				}
			}
			if end {
				break
			}
		}
	}
	if fatChanged {
		for i := range fats {
			if _, err := f.WriteAt(fat, start+(reserved+i*fatSectors)*bps); err != nil {
				return err
			}
		}
	}

	put32 := func(off int64, v uint32) error {
		var b [4]byte
		le.PutUint32(b[:], v)
		_, err := f.WriteAt(b[:], off)
		return err
	}
	// Hidden sectors: the sectors before the volume on the disk.
	for _, sec := range []int64{0, backup} {
		if err := put32(start+sec*bps+28, uint32(start/bps)); err != nil {
			return err
		}
	}
	// Free clusters: those of clusters 2 to clusters+1 whose FAT entry is 0.
	var free uint32
	for c := uint32(2); c < uint32(clusters)+2; c++ {
		if entryOf(c) == 0 {
			free++
		}
	}
	for _, sec := range []int64{fsInfo, backup + fsInfo} {
		if err := put32(start+sec*bps+488, free); err != nil {
			return err
		}
	}
	return nil
}

// clusterChain returns the clusters of folder dir, as go-diskfs has them.
func clusterChain(fsys filesystem.FileSystem, dir string) ([]uint32, error) {
	d, err := fsys.OpenFile(dir, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	cc, ok := d.(interface{ GetClusterChain() ([]uint32, error) })
	if !ok {
		return nil, fmt.Errorf("go-diskfs's file (%T) has no GetClusterChain", d)
	}
	chain, err := cc.GetClusterChain()
	if err == nil && len(chain) == 0 {
		err = fmt.Errorf("no clusters")
	}
	return chain, err
}
