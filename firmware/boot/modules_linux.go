package boot

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// loadModule loads one kernel module file with finit_module. Debian's arm64
// kernel ships its modules uncompressed; a compressed one (.ko.xz, .ko.zst,
// .ko.gz) is handed to the kernel with MODULE_INIT_COMPRESSED_FILE, which
// kernels built with CONFIG_MODULE_DECOMPRESS take and others refuse.
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	if !strings.HasSuffix(path, ".ko") {
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), "", flags); err != nil && err != unix.EEXIST {
		return err
	}
	return nil
}
