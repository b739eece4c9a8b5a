package interop

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/audio"
	"github.com/deskphone/deskphone/internal/testtool"
	"github.com/deskphone/deskphone/tools/lab"
	"github.com/deskphone/deskphone/tools/panelclient"
)

// The wideband tones: baresip's sine and the phone's microphone, both
// above 4 kHz, where G.711 (8000 samples/s) carries nothing.
const (
	wideFromBaresip = 6000.0
	wideFromPhone   = 5000.0
)

// TestBaresipG722: baresip with its g722 module (offered first, the only
// codec its account takes) and a sim-board phone, in both directions of
// call set-up: baresip calls the phone, and the phone calls baresip. In
// each call the phone's earpiece (the panel's audio stream at 16000,
// panel/3) hears baresip's 6 kHz sine and baresip's decoded audio (its
// sndfile dump, 16 kHz) holds the phone's 5 kHz: energy above 4 kHz
// survives the call both ways, which it cannot in G.711. The phone's log
// says the call ran G722.
func TestBaresipG722(t *testing.T) {
	if BaresipModules() == "" {
		testtool.Missing(t, "baresip's modules are not installed")
	}
	if _, err := os.Stat(filepath.Join(BaresipModules(), "g722.so")); err != nil {
		testtool.Missing(t, "baresip's g722 module is not installed")
	}
	for _, dir := range []string{"baresip calls", "phone calls"} {
		t.Run(strings.ReplaceAll(dir, " ", "-"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var (
				ph   *lab.Phone
				mark int
			)
			// Registered, and the panel's audio at 16000, before baresip
			// dials (it dials at once).
			before := func(l *lab.Lab) {
				if _, err := l.WaitRegistered(ctx); err != nil {
					t.Fatal(err)
				}
				ph = l.Phones[0]
				if err := ph.Panel.SetRate(ctx, panelclient.WideRate); err != nil {
					t.Fatal(err)
				}
				mark = ph.Panel.Mark()
			}
			params, dial := ";regint=0;audio_codecs=G722/16000/1", func(pbx string) string { return "dsip:1001@" + pbx }
			if dir == "phone calls" {
				params, dial = ";answermode=auto;regint=300;audio_codecs=G722/16000/1", nil
			}
			l, b := baresipLab(ctx, t, params, int(wideFromBaresip), before, dial, "g722.so")
			wait := func(re string) { t.Helper(); ph.Await(t, ctx, mark, re) }
			if dir == "baresip calls" {
				wait(`^ring on`)
				mark = ph.Panel.Mark()
				if err := ph.Panel.Send("hook off"); err != nil {
					t.Fatal(err)
				}
			} else {
				dialBaresip(ctx, t, ph, b, wait)
			}
			wait(`^phone connected$`)
			playCtx, stop := context.WithCancel(ctx)
			go ph.Panel.PlayTone(playCtx, wideFromPhone, 9830)
			s, err := ph.Panel.Record(3 * time.Second)
			stop()
			if err != nil {
				t.Fatal(err)
			}
			rate := ph.Panel.Rate()
			if len(s) > rate {
				s = s[len(s)-rate:]
			}
			heard, low := audio.ToneLevel(s, wideFromBaresip, rate), audio.ToneLevel(s, 8000-wideFromBaresip, rate)
			t.Logf("earpiece at %d Hz: %.0f Hz level %.3f (%.0f Hz, its alias, %.4f)", rate, wideFromBaresip, heard, 8000-wideFromBaresip, low)
			mark = ph.Panel.Mark()
			if err := ph.Panel.Send("hook on"); err != nil {
				t.Fatal(err)
			}
			wait(`^phone idle$`)
			if heard < lab.MinLevel || heard < 10*low {
				t.Errorf("the phone did not hear baresip's %.0f Hz through G.722 (level %.4f)", wideFromBaresip, heard)
			}
			// The other way: baresip's decoded audio.
			rx, drate := baresipDecoded(ctx, t, b)
			got := audio.ToneLevel(rx, wideFromPhone, drate)
			t.Logf("baresip decoded %d samples at %d Hz: %.0f Hz level %.3f", len(rx), drate, wideFromPhone, got)
			if drate != 16000 || got < lab.MinLevel {
				t.Errorf("baresip did not receive the phone's %.0f Hz through G.722 (%d Hz, level %.4f)", wideFromPhone, drate, got)
			}
			// The phone played G.722 (its log), and baresip's SDP named it.
			console, _ := l.ConsoleLog("1001")
			if t.Failed() {
				t.Logf("the phone's log:\n%s", console)
			}
			if !regexp.MustCompile(`audio G722 to `).Match(console) {
				t.Errorf("the phone's log has no G722 stream:\n%s", console)
			}
			// On the wire (at the PBX): both SDPs of the INVITE
			// transaction name G.722 by payload type 9 with its 8000 Hz
			// clock (RFC 3551 4.5.2), the phone's with 9 first (its
			// preference, audio.codecs).
			rtpmap := regexp.MustCompile(`(?m)^a=rtpmap:9 G722/8000\r$`)
			first9 := regexp.MustCompile(`(?m)^m=audio \d+ RTP/AVP 9[ \r]`)
			var phoneSDP, bareSDP bool
			for _, e := range l.PBX.Ladder() {
				if e.Method != "INVITE" || e.Dir != "in" || !rtpmap.Match(e.Raw) {
					continue
				}
				fromPhone := e.Request == (e.From == "1001")
				phoneSDP = phoneSDP || fromPhone && first9.Match(e.Raw)
				bareSDP = bareSDP || !fromPhone
			}
			if !phoneSDP || !bareSDP {
				t.Errorf("at the PBX: G722/8000 in the phone's SDP (first) %v, in baresip's %v", phoneSDP, bareSDP)
			}
		})
	}
}
