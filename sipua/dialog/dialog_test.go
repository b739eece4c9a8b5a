package dialog

import (
	"reflect"
	"testing"

	"github.com/deskphone/deskphone/sipua/sipmsg"
)

const inv = "INVITE sip:bob@b.example SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP p2.example;branch=z9hG4bKp2\r\n" +
	"Via: SIP/2.0/UDP 10.0.2.15:5060;branch=z9hG4bKa\r\n" +
	"Record-Route: <sip:p2.example;lr>\r\n" +
	"Record-Route: <sip:p1.example;lr>\r\n" +
	"From: \"Alice\" <sip:alice@a.example>;tag=at\r\n" +
	"To: <sip:bob@b.example>\r\n" +
	"Call-ID: c1\r\n" +
	"CSeq: 4 INVITE\r\n" +
	"Contact: <sip:alice@10.0.2.15:5060>\r\n\r\n"

func TestUACAndUAS(t *testing.T) {
	req, err := sipmsg.Parse([]byte(inv))
	if err != nil {
		t.Fatal(err)
	}
	uas, err := NewUAS(req, "bt")
	if err != nil {
		t.Fatal(err)
	}
	ok := sipmsg.NewResponse(req, 200, "")
	ok.Set("To", "<sip:bob@b.example>;tag=bt")
	ok.Add("Contact", "<sip:bob@192.0.2.7:5062>")
	uac, err := NewUAC(req, ok)
	if err != nil {
		t.Fatal(err)
	}
	if uac.ID() != "c1;at;bt" || uas.ID() != "c1;bt;at" {
		t.Fatalf("IDs %q %q", uac.ID(), uas.ID())
	}
	if !reflect.DeepEqual(uac.RouteSet, []string{"<sip:p1.example;lr>", "<sip:p2.example;lr>"}) ||
		!reflect.DeepEqual(uas.RouteSet, []string{"<sip:p2.example;lr>", "<sip:p1.example;lr>"}) {
		t.Fatalf("route sets %q %q", uac.RouteSet, uas.RouteSet)
	}
	bye := uac.NewRequest("BYE")
	want := "BYE sip:bob@192.0.2.7:5062 SIP/2.0\r\nRoute: <sip:p1.example;lr>\r\nRoute: <sip:p2.example;lr>\r\n" +
		"Max-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@a.example>;tag=at\r\nTo: <sip:bob@b.example>;tag=bt\r\n" +
		"Call-ID: c1\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n"
	if bye.String() != want {
		t.Fatalf("BYE:\n%s\nwant\n%s", bye, want)
	}
	if ack := uac.NewRequest("ACK"); ack.Get("CSeq") != "5 ACK" {
		t.Fatalf("ACK CSeq %q", ack.Get("CSeq"))
	}
	ubye := uas.NewRequest("BYE")
	if ubye.RequestURI != "sip:alice@10.0.2.15:5060" || ubye.Get("CSeq") != "1 BYE" || ubye.Get("From") != "<sip:bob@b.example>;tag=bt" {
		t.Fatalf("UAS BYE %s", ubye)
	}
	if uac.NextHop().Host != "p1.example" || uas.NextHop().Host != "p2.example" {
		t.Fatal("NextHop")
	}
}

func TestStrictRoute(t *testing.T) {
	d := &Dialog{CallID: "c", RemoteTarget: sipmsg.URI{Scheme: "sip", User: "b", Host: "h"}, RouteSet: []string{"<sip:strict.example>", "<sip:p2;lr>"}}
	m := d.NewRequest("BYE")
	if m.RequestURI != "sip:strict.example" || !reflect.DeepEqual(m.GetAll("Route"), []string{"<sip:p2;lr>", "<sip:b@h>"}) {
		t.Fatalf("strict: %s", m)
	}
	if (&Dialog{RemoteTarget: d.RemoteTarget}).NextHop().Host != "h" {
		t.Fatal("NextHop without routes")
	}
	// A target refresh moves the last route with it.
	d.SetRemoteTarget(sipmsg.URI{Scheme: "sip", User: "b", Host: "h2"})
	if m := d.NewRequest("BYE"); m.RequestURI != "sip:strict.example" || !reflect.DeepEqual(m.GetAll("Route"), []string{"<sip:p2;lr>", "<sip:b@h2>"}) {
		t.Fatalf("strict after a target refresh: %s", m)
	}
}

// TestNewRequestAllocs: a request in a dialog costs its message, its
// headers (room for all a UA adds) and its CSeq, whatever the route set.
func TestNewRequestAllocs(t *testing.T) {
	req, _ := sipmsg.Parse([]byte(inv))
	uas, err := NewUAS(req, "bt")
	if err != nil {
		t.Fatal(err)
	}
	strict := &Dialog{CallID: "c", RemoteTarget: sipmsg.URI{Scheme: "sip", User: "b", Host: "h"}, RouteSet: []string{"<sip:strict.example>", "<sip:p2;lr>"}}
	for _, d := range []*Dialog{uas, strict} {
		d.NewRequest("INVITE")
		n := testing.AllocsPerRun(50, func() {
			m := d.NewRequest("INVITE")
			for range 8 { // Via, Contact, Allow, User-Agent, credentials, Content-Type, ...
				m.Add("X", "y")
			}
		})
		if n != 3 {
			t.Errorf("%v allocations a request, want 3", n)
		}
	}
}

func TestErrors(t *testing.T) {
	req, _ := sipmsg.Parse([]byte(inv))
	req.Del("Contact")
	if _, err := NewUAS(req, "x"); err == nil {
		t.Fatal("UAS without Contact")
	}
	if _, err := NewUAC(req, sipmsg.NewResponse(req, 200, "")); err == nil {
		t.Fatal("UAC without Contact")
	}
}
