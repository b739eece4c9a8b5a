package testtool

import (
	"strings"
	"testing"
)

// TestRtpengine: rtpengine starts on its ports and answers the ng ping
// (in StartRtpengine).
func TestRtpengine(t *testing.T) {
	r := StartRtpengine(t)
	if r.PortMax-r.PortMin+1 != rtpenginePorts || !r.Serves(r.PortMin) || r.Serves(r.PortMax+1) {
		t.Errorf("ports %d-%d", r.PortMin, r.PortMax)
	}
	if out := r.Output(); !strings.Contains(out, "Startup complete") {
		t.Errorf("output:\n%s", out)
	}
}
