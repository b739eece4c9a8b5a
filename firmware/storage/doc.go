// Package storage keeps the phone's last good configuration, and the web
// page's certificate, across power cycles in a small, crash-safe format
// over any io.ReaderAt/io.WriterAt: a file on the sim board, a raw block
// device (/dev/vda in QEMU, a partition on a Raspberry Pi).
//
// The state device holds one Store per Region: ConfigRegion (the first
// MiB) and WebRegion (64 KiB after it).
//
// A region is split into two equal slots. Each slot is a header and the
// payload:
//
//	offset size
//	0      4    magic "DPS1"
//	4      8    generation, big endian, counting up from 1
//	12     4    payload length, big endian
//	16     4    CRC-32 (Castagnoli) of bytes 4..16 and of the payload
//	20     n    payload
//
// Save writes the slot that does not hold the newest valid copy, with the
// next generation, then syncs when the device can. Load reads both slots and
// returns the valid one with the higher generation. A write torn by a power
// cut, a flipped bit or a blank device leaves a slot whose CRC does not
// match: it is skipped, and the other slot (the previous save) is used. Only
// when neither slot is valid does Load return ErrEmpty.
package storage
