//go:build !unix

package panel

import (
	"io"
	"os"
	"time"
)

// direct is the unix socket path (direct_unix.go); elsewhere the reader
// and writer goroutines carry the audio.
type direct struct{}

func newDirect(io.ReadWriteCloser) *direct { return nil }

func (*direct) mute()                        {}
func (*direct) unmute()                      {}
func (*direct) tryRead([]byte) (int, error)  { return 0, nil }
func (*direct) tryWrite([]byte) (int, error) { return 0, nil }

type rawClock struct{}

func newRawClock(*os.File, time.Time, time.Duration) *rawClock { return nil }
func (*rawClock) wait() error                                  { return nil }
