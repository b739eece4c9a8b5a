package provision

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"github.com/deskphone/deskphone/firmware/provision/tftpdtest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/deskphone/deskphone/firmware/config"
	fwprov "github.com/deskphone/deskphone/firmware/provision"
	"github.com/deskphone/deskphone/firmware/update"
)

const template = `# site-wide settings
line.1.registrar = 10.0.2.2:5060
voicemail.number = 8000
provision.resync_minutes = 60
`

const fleetCSV = `mac,user,password,display_name,call.forward_noanswer,line.1.auth_user
52:54:00:12:34:01,1001,s3cret#1,Alice Smith,8000,
52-54-00-12-34-02,1002,pw2,"Bob, Jr",,b1002
# a comment line
525400123403,1003,pw3,,,
`

func TestBuild(t *testing.T) {
	f, err := Build(strings.NewReader(fleetCSV), Options{Common: []byte(template)})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Phones) != 3 || f.CommonName != "phone.cfg" || !bytes.Equal(f.Common, []byte(template)) {
		t.Fatalf("fleet %+v", f)
	}
	wantFiles := []string{"525400123401.cfg", "525400123402.cfg", "525400123403.cfg"}
	wantLines := []int{2, 3, 5}
	for i, p := range f.Phones {
		if p.File != wantFiles[i] || p.Line != wantLines[i] {
			t.Errorf("phone %d: %s line %d", i, p.File, p.Line)
		}
	}
	c, _, err := config.LoadFiles("phone.cfg", f.Common, f.Phones[0].File, f.Phones[0].Data)
	if err != nil || c.Lines[0].User != "1001" || c.Lines[0].Password != "s3cret#1" || c.Lines[0].DisplayName != "Alice Smith" ||
		c.ForwardNoAnswer != "8000" || c.Lines[0].Registrar != "10.0.2.2:5060" || c.Lines[0].AuthUser != "" {
		t.Errorf("phone 1: %v\n%s", err, c)
	}
	c, _, _ = config.LoadFiles("phone.cfg", f.Common, f.Phones[1].File, f.Phones[1].Data)
	if c.Lines[0].DisplayName != "Bob, Jr" || c.Lines[0].AuthUser != "b1002" || c.ForwardNoAnswer != "" {
		t.Errorf("phone 2: %s", c)
	}
	// With a key, the common file names it.
	pub, _, _ := ed25519.GenerateKey(nil)
	f, err = Build(strings.NewReader(fleetCSV), Options{Common: []byte(template), PublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	c, _, _ = config.LoadFiles("phone.cfg", f.Common, "x", nil)
	if c.ProvisionPublicKey != base64.StdEncoding.EncodeToString(pub) {
		t.Errorf("key not in the common file:\n%s", f.Common)
	}
	// Naming the same key in the template is fine, another is not.
	if _, err := Build(strings.NewReader(fleetCSV), Options{Common: f.Common, PublicKey: pub}); err != nil {
		t.Error(err)
	}
	pub2, _, _ := ed25519.GenerateKey(nil)
	if _, err := Build(strings.NewReader(fleetCSV), Options{Common: f.Common, PublicKey: pub2}); err == nil || !strings.Contains(err.Error(), "signed with") {
		t.Errorf("other key: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	const head = "mac,user,password,display_name\n"
	tests := []struct {
		name     string
		csv      string
		template string
		want     []string // each must be in the error
	}{
		{"bad mac", head + "52:54:00:12:34,1001,a,b\n", "", []string{"fleet.csv:2: bad MAC"}},
		{"multicast mac", head + "01:00:5e:00:00:01,1001,a,b\n", "", []string{"fleet.csv:2: MAC 01:00:5e:00:00:01 is a multicast"}},
		{"duplicate mac in another spelling", head + "52:54:00:12:34:01,1001,a,b\n525400123401,1002,a,b\n", "", []string{"fleet.csv:3: MAC 52:54:00:12:34:01 is already on line 2"}},
		{"duplicate user", head + "52:54:00:12:34:01,1001,a,b\n52:54:00:12:34:02,1001,a,b\n", "", []string{"fleet.csv:3: user 1001 is already on line 2"}},
		{"no user", head + "52:54:00:12:34:01,,a,b\n", "", []string{"fleet.csv:2: no user"}},
		{"unknown key column", "mac,user,line.1.colour\n52:54:00:12:34:01,1001,red\n", "", []string{`fleet.csv:1: column 3 "line.1.colour" is not a configuration key`}},
		{"column twice", "mac,user,line.1.user\n", "", []string{`column "line.1.user" sets what column "user" sets`}},
		{"no mac column", "user,password\n1001,x\n", "", []string{"needs the columns mac and user"}},
		{"bad value with line", "mac,user,line.1.expires\n52:54:00:12:34:01,1001,3600\n52:54:00:12:34:02,1002,5\n", "",
			[]string{"fleet.csv:3: config: 525400123402.cfg:3: line.1.expires: 5 is out of range"}},
		{"bad user", head + "52:54:00:12:34:01,10 01,a,b\n", "", []string{"fleet.csv:2: config: 525400123401.cfg:2: line.1.user"}},
		{"value on two lines", head + "52:54:00:12:34:01,1001,\"a\nb\",b\n", "", []string{"fleet.csv:2: column password: the value spans lines"}},
		{"field count", head + "52:54:00:12:34:01,1001\n", "", []string{"fleet.csv:2:", "wrong number of fields"}},
		{"several at once", head + "x,1001,a,b\n52:54:00:12:34:01,1001,a,b\n52:54:00:12:34:02,1001,a,b\n", "", []string{"fleet.csv:2: bad MAC", "fleet.csv:4: user 1001 is already on line 3"}},
		{"empty", head, "", []string{"has no phones"}},
		{"template unknown key", head + "52:54:00:12:34:01,1001,a,b\n", "sip.prot = 5060\n", []string{"template: config: phone.cfg:1: sip.prot: unknown key"}},
		{"template bad value", head + "52:54:00:12:34:01,1001,a,b\n", "\nsip.port = x\n", []string{"template: config: phone.cfg:2: sip.port"}},
		{"pair invalid together", "mac,user,rtp.port_min\n52:54:00:12:34:01,1001,20000\n", "rtp.port_max = 10999\n", []string{"fleet.csv:2: config: 525400123401.cfg:3: rtp.port_min: 20000 is above"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(strings.NewReader(tt.csv), Options{Common: []byte(tt.template)})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if !strings.HasPrefix(err.Error(), "provision: ") {
				t.Errorf("no prefix: %v", err)
			}
		})
	}
}

func TestParseMAC(t *testing.T) {
	for in, want := range map[string]string{
		"52:54:00:AB:CD:EF": "52:54:00:ab:cd:ef", "52-54-00-ab-cd-ef": "52:54:00:ab:cd:ef",
		"525400ABCDEF": "52:54:00:ab:cd:ef", " 5254.00ab.cdef ": "52:54:00:ab:cd:ef",
		"5254": "", "52:54:00:ab:cd:ef:00:11": "", "zz5400abcdef": "",
	} {
		m, err := ParseMAC(in)
		if (err == nil) != (want != "") || (err == nil && m.String() != want) {
			t.Errorf("ParseMAC(%q) = %v, %v; want %q", in, m, err, want)
		}
	}
}

func TestWriteAndKeys(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "signing.key")
	priv, err := GenerateKey(keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	if _, err := GenerateKey(keyFile, nil); err == nil {
		t.Error("GenerateKey overwrote a key")
	}
	got, err := ReadKey(keyFile)
	if err != nil || !got.Equal(priv) {
		t.Fatalf("ReadKey: %v", err)
	}
	f, err := Build(strings.NewReader(fleetCSV), Options{Common: []byte(template), PublicKey: priv.Public().(ed25519.PublicKey)})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tftp")
	names, err := f.Write(out, priv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"525400123401.cfg", "525400123401.cfg.sig", "525400123402.cfg", "525400123402.cfg.sig",
		"525400123403.cfg", "525400123403.cfg.sig", "phone.cfg", "phone.cfg.sig"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("wrote %v", names)
	}
	ents, _ := os.ReadDir(out)
	var onDisk []string
	for _, e := range ents {
		onDisk = append(onDisk, e.Name())
		if fi, _ := e.Info(); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s mode %v", e.Name(), fi.Mode())
		}
	}
	sort.Strings(onDisk)
	if strings.Join(onDisk, " ") != strings.Join(want, " ") {
		t.Errorf("on disk %v (temporary files left?)", onDisk)
	}
	// The firmware's provisioner accepts them with the key trusted.
	p := &fwprov.Provisioner{Source: fwprov.DirSource{Dir: out}, OwnFile: "525400123402.cfg", TrustedKey: priv.Public().(ed25519.PublicKey)}
	c, err := p.Boot(context.Background())
	if err != nil || c.Lines[0].User != "1002" {
		t.Fatalf("firmware refused the signed files: %v", err)
	}
}

// TestServedByTftpdHPA writes the files for a three-phone CSV, serves them
// with tftpd-hpa's in.tftpd on a 127.0.0.1 port and fetches each back with
// the firmware's TFTP client, then loads each phone's pair; and boots each
// phone's Provisioner over TFTP with the signing key trusted.
func TestServedByTftpdHPA(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(nil)
	pub := priv.Public().(ed25519.PublicKey)
	f, err := Build(strings.NewReader(fleetCSV), Options{Common: []byte(template), PublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	names, err := f.Write(dir, priv)
	if err != nil {
		t.Fatal(err)
	}

	addr := tftpdtest.Start(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got := map[string][]byte{}
	for _, name := range names {
		b, err := fwprov.Get(ctx, addr, name, fwprov.MaxConfigSize)
		if err != nil {
			t.Fatalf("Get %s: %v", name, err)
		}
		want, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(b, want) {
			t.Fatalf("%s differs over TFTP", name)
		}
		got[name] = b
	}
	for _, p := range f.Phones {
		c, warns, err := config.LoadFiles("phone.cfg", got["phone.cfg"], p.File, got[p.File])
		if err != nil || len(warns) > 0 || c.Lines[0].User != p.User || c.ProvisionPublicKey == "" {
			t.Errorf("%s: %v %v %s", p.File, err, warns, c)
		}
		prov := &fwprov.Provisioner{Source: fwprov.TFTPSource{Server: addr}, OwnFile: p.File, TrustedKey: pub, Logf: t.Logf}
		if c, err := prov.Boot(ctx); err != nil || c.Lines[0].User != p.User {
			t.Errorf("%s: provisioner over TFTP: %v", p.File, err)
		}
	}
	// An altered file served by tftpd-hpa is refused.
	os.WriteFile(filepath.Join(dir, f.Phones[0].File), append(got[f.Phones[0].File], "call.dnd = on\n"...), 0o644)
	prov := &fwprov.Provisioner{Source: fwprov.TFTPSource{Server: addr}, OwnFile: f.Phones[0].File, TrustedKey: pub}
	if _, err := prov.Boot(ctx); !errors.Is(err, fwprov.ErrSignature) {
		t.Errorf("altered file: %v", err)
	}
}

// TestFirmwareImage signs this test binary as a firmware image and
// checks what the phone would: the signature, the architecture and the
// payload's hash.
func TestFirmwareImage(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	out := filepath.Join(t.TempDir(), "phoned.img")
	h, err := WriteFirmware(out, priv, "1.4.0", exe)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := os.ReadFile(out)
	bin, _ := os.ReadFile(exe)
	got, err := update.Verify(priv.Public().(ed25519.PublicKey), img)
	if err != nil || got != h || got.Arch != runtime.GOARCH || got.SHA256 != sha256.Sum256(bin) || !bytes.Equal(img[update.HeaderSize:], bin) {
		t.Fatalf("image header %+v, %v", got, err)
	}
	if _, err := FirmwareImage(priv, "1.4.0", []byte("#!/bin/sh\n")); err == nil {
		t.Error("a shell script signed as firmware")
	}
	if _, err := FirmwareImage(priv, "one", bin); err == nil {
		t.Error("a bad version signed")
	}
}
