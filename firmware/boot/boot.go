package boot

import "os"

// IsPID1 reports whether this process is the init process.
func IsPID1() bool { return os.Getpid() == 1 }

// mount is one file system the phone mounts at start.
type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
	without                string // what the phone lacks when it fails
}
