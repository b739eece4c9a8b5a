// Package piimage builds the SD card image a Raspberry Pi desk phone boots
// from: the Pi's boot firmware (github.com/gokrazy/firmware), Debian's
// arm64 kernel, the boards' device trees and phoned as /init, on the
// partitions package disk writes (cmd/piimage is the command, make image).
//
// It is its own module, like tools/webtest and tools/sipbench, so that the
// firmware's go.mod never carries go-diskfs (and the compressors and file
// systems it pulls in) or the boot firmware; the project's packages come
// through the replace in tools/piimage/go.mod.
package piimage
