package hardware

import (
	"time"

	"github.com/deskphone/deskphone/hal/wm8960"
)

func noSleepCodec() wm8960.Options { return wm8960.Options{Sleep: func(time.Duration) {}} }
