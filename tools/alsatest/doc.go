// Package alsatest runs hal/alsa for real: it boots Debian's arm64 kernel
// (fetched by tools/setup/debian-kernel.sh into ~/.cache/deskphone) in
// QEMU with an initramfs whose /init is alsainit, which loads snd-aloop
// and its dependencies, plays a tone into the loopback's playback
// substream through hal/alsa and checks that the capture substream gives it
// back sample for sample. The test skips where the kernel cannot be had and
// fails in CI (env CI set), where the setup script must have fetched it.
package alsatest
