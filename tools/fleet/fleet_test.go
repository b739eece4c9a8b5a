package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/deskphone/deskphone/internal/testtool"
)

// TestRun runs the fleet benchmark small (20 phones, 4 calls, 2 with
// their audio checked) against Kamailio and tftpd-hpa, so that make
// fleet never rots: every phone registers at boot and again after the
// power cut, every call connects, the sampled ones with a tone each way,
// and every phone resyncs.
func TestRun(t *testing.T) {
	testtool.Long(t, "make peers")
	o := Options{N: 20, C: 4, Sample: 2, Phase: 60 * time.Second, Logf: t.Logf,
		Kamailio: testtool.Need(t, "kamailio"), TFTPD: testtool.Need(t, "in.tftpd"), Dir: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", r.Format())
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if r.PowerCut.Challenged < r.N {
		t.Errorf("after the power cut Kamailio challenged %d REGISTERs, want one per phone (%d) at least", r.PowerCut.Challenged, r.N)
	}
}

func TestRetransmissions(t *testing.T) {
	log := "x REGSEQ|a|1\nREGSEQ|a|2\n  REGSEQ|a|1\nREGSEQ|b|1\nnoise\nREGSEQ|a|1\n"
	if got := retransmissions(log); got != 2 {
		t.Errorf("retransmissions = %d, want 2", got)
	}
}
