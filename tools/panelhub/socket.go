package panelhub

import (
	"io/fs"
	"os"
)

// removeSocket removes a unix socket the hub listened on.
func removeSocket(path string) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
		os.Remove(path)
	}
}
