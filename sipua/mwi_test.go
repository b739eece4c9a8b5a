package sipua

import (
	"context"
	"testing"
	"time"

	"github.com/deskphone/deskphone/sipua/digest"
	"github.com/deskphone/deskphone/sipua/sipmsg"
)

// TestMessageSummarySubscription: a registered line subscribes to its
// message-summary, answers the 407, takes the NOTIFY and refreshes the
// subscription in its dialog.
func TestMessageSummarySubscription(t *testing.T) {
	old := mwiMinRefresh
	mwiMinRefresh = 100 * time.Millisecond
	t.Cleanup(func() { mwiMinRefresh = old })
	p := newPeer(t)
	mwi := make(chan [3]int, 4)
	ua, err := New(Config{Listen: "127.0.0.1:0", Logf: t.Logf,
		Lines: []LineConfig{{User: "1001", Password: "pw", Registrar: p.addr(), Domain: "pbx.test"}},
		OnMessageSummary: func(line int, waiting bool, n, o int) {
			w := 0
			if waiting {
				w = 1
			}
			mwi <- [3]int{line, w, n*100 + o}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ua.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	ch := digest.NewChallenge("pbx.test")
	subs := 0
	var first *sipmsg.Message
	for subs < 3 {
		m, from := p.read()
		if m.Method == "" || m.Method == "ACK" {
			continue
		}
		r := sipmsg.NewResponse(m, 200, "")
		switch m.Method {
		case "REGISTER":
			r.Add("Contact", m.Get("Contact")+";expires=3600")
			r.Set("To", m.Get("To")+";tag=reg")
		case "SUBSCRIBE":
			if m.Get("Event") != "message-summary" || (subs < 2 && m.RequestURI != "sip:1001@pbx.test") {
				t.Fatalf("SUBSCRIBE %s Event %q", m.RequestURI, m.Get("Event"))
			}
			subs++
			switch subs {
			case 1:
				r = sipmsg.NewResponse(m, 407, "")
				r.Add("Proxy-Authenticate", ch.String())
				r.Set("To", m.Get("To")+";tag=n1")
			case 2:
				cr, err := digest.ParseCredentials(m.Get("Proxy-Authorization"))
				if err != nil || !cr.Verify("SUBSCRIBE", "pw") {
					t.Fatalf("credentials %q: %v", m.Get("Proxy-Authorization"), err)
				}
				first = m
				r.Set("To", m.Get("To")+";tag=n2")
				r.Add("Contact", "<sip:8000@"+p.addr()+">")
				r.Add("Expires", "1")
				p.send(r, from)
				n := sipmsg.NewRequest("NOTIFY", "sip:1001@"+ua.LocalAddr().String())
				n.Add("Via", "SIP/2.0/UDP "+p.addr()+";branch="+sipmsg.NewBranch())
				n.Add("From", r.Get("To"))
				n.Add("To", m.Get("From"))
				n.Add("Call-ID", m.Get("Call-ID"))
				n.Add("CSeq", "1 NOTIFY")
				n.Add("Event", "message-summary")
				n.Add("Subscription-State", "active;expires=1")
				n.Add("Content-Type", "application/simple-message-summary")
				n.Body = []byte("Messages-Waiting: yes\r\nVoice-Message: 2/1 (0/0)\r\n")
				p.send(n, from)
				continue
			case 3: // the refresh, in the dialog (RFC 6665 4.1.2.1)
				if m.Get("Call-ID") != first.Get("Call-ID") || !containsTag(m.Get("To"), "n2") || m.RequestURI != "sip:8000@"+p.addr() {
					t.Fatalf("refresh outside the dialog: To %q", m.Get("To"))
				}
				r.Add("Expires", "3600")
			}
		}
		p.send(r, from)
	}
	select {
	case got := <-mwi:
		if got != [3]int{1, 1, 201} {
			t.Fatalf("message summary %v", got)
		}
	case <-time.After(deadline):
		t.Fatal("no message summary")
	}
}

func containsTag(v, tag string) bool {
	na, err := sipmsg.ParseNameAddr(v)
	if err != nil {
		return false
	}
	got, _ := na.Param("tag")
	return got == tag
}
