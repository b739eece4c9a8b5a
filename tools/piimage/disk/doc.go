// Package disk writes and reads the SD card image a desk phone boots from.
//
// # The image
//
// The image is a raw disk with an MBR (DOS) partition table and two primary
// partitions:
//
//  1. The boot partition, FAT32 with LBA addressing (MBR type 0x0c), labelled
//     "DESKPHONE" by default. The Raspberry Pi's boot ROM and its firmware
//     (start*.elf, or the Pi 4/5 EEPROM bootloader) read only the first FAT
//     partition of an MBR disk, so everything the Pi needs to start lives here:
//     the firmware files, config.txt, cmdline.txt, the device trees and
//     overlays, the kernel and the initramfs that holds the phone. 256 MiB
//     holds about 35 MB of kernel, 15 MB of initramfs and 10 MB of firmware
//     with room to spare for an update written next to the old files.
//  2. The state partition, a raw partition of type 0xda ("non-FS data"), 16
//     MiB by default, on which the running phone keeps its last good
//     configuration, so that it still comes up as a working phone when the
//     provisioning server cannot be reached. The type tells Linux and desktop
//     tools that there is no file system on it to mount or "repair"; the
//     image leaves it zeroed and the firmware owns its format.
//
// # Alignment
//
// Partition 1 starts at 4 MiB and partition 2 right after it, so both start
// (and, with whole MiB sizes, end) on 4 MiB boundaries. SD cards are NAND
// flash erased in allocation units of 4 MiB or less; a partition, and so the
// FAT structures at its start, that straddles an allocation unit makes each
// small write cost two erase cycles, which is slower and wears the card out
// sooner. Raspberry Pi OS's images start their boot partition at 4 MiB for
// the same reason.
//
// # FAT32 only
//
// Write always makes FAT32 and refuses a boot partition too small to hold the
// 65525 clusters that make a volume FAT32 rather than FAT16 (readers, the Pi
// firmware among them, decide the FAT type by counting clusters, not by
// reading the type string in the boot sector). With the 512-byte clusters
// that go-diskfs uses for volumes up to 260 MB, that minimum is 33 MiB. Read
// accepts FAT32, FAT16 and FAT12, as the Pi does.
//
// go-diskfs makes the file system; Write then corrects the few fields it
// leaves that fsck.fat and Windows report as errors (see finishFAT32), so the
// card needs no repair when plugged into a PC.
//
// File names are kept in VFAT long file name entries, so "config.txt" and
// "bcm2711-rpi-4-b.dtb" come back from Read exactly as written. Write accepts
// printable ASCII names only, and rejects two names that differ only in case,
// since FAT compares names without case.
package disk
