//go:build unix

package panel

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// CreateShared makes a new shared audio file in dir (a client's, panel/4:
// the phone maps it when the client names it in "audio shm PATH") and
// returns its path.
func CreateShared(dir string) (string, error) {
	f, err := os.CreateTemp(dir, "panel-audio-*")
	if err != nil {
		return "", fmt.Errorf("panel: shared audio: %w", err)
	}
	_, err = f.Write(sharedHead())
	if err == nil {
		err = f.Truncate(SharedSize)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("panel: shared audio: %w", err)
	}
	return f.Name(), nil
}

// MapShared maps the shared audio file at path, read and write, after
// checking that it is one: a regular file (not followed through a link)
// of the size its header gives. Close unmaps it.
func MapShared(path string) (*SharedAudio, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("panel: shared audio: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("panel: shared audio: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() < sharedHeader || st.Size() > sharedHeader+2<<20 {
		return nil, fmt.Errorf("%w (%s, %d bytes)", errShared, st.Mode().Type(), st.Size())
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("panel: shared audio: %w", err)
	}
	a, err := openShared(mem)
	if err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	a.unmap = unix.Munmap
	return a, nil
}

// Close unmaps the file; the view must not be used after it.
func (a *SharedAudio) Close() error {
	if a.unmap == nil {
		return nil
	}
	mem, unmap := a.mem, a.unmap
	a.mem, a.unmap = nil, nil
	return unmap(mem)
}
