package phone

import (
	"testing"
	"testing/synctest"
)

// TestPromptOnDisplay: what a key did or why it did nothing is on the
// display's message row, not only in the panel's log, and leaves it after
// a few seconds.
func TestPromptOnDisplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := startLive(t, nil) // no voicemail.number
		l.key("vm")
		has(t, l.out.take(), "log vm: no voicemail.number configured", "display 2 vm: no voicemail.number configured")
		l.sleep(promptShown)
		has(t, l.out.take(), "display 2 ")
	})
}
