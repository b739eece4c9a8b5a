package netboot

import (
	"net"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func opt(code uint8, v []byte) dhcpv4.Modifier {
	return dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.GenericOptionCode(code), v))
}

// sub encodes vendor sub-options (code, value) pairs.
func sub(pairs ...any) []byte {
	var b []byte
	for i := 0; i < len(pairs); i += 2 {
		v := pairs[i+1].([]byte)
		b = append(b, byte(pairs[i].(int)), byte(len(v)))
		b = append(b, v...)
	}
	return b
}

func TestProvisioningServer(t *testing.T) {
	siaddr := dhcpv4.WithServerIP(net.IPv4(10, 0, 2, 9))
	tests := []struct {
		name string
		mods []dhcpv4.Modifier
		host string
		src  ServerSource
		dir  string
		boot string
	}{
		{"66 host", []dhcpv4.Modifier{opt(66, []byte("tftp.example")), opt(160, []byte("10.9.9.9"))}, "tftp.example", FromOption66, "", ""},
		{"66 url with folder", []dhcpv4.Modifier{opt(66, []byte("tftp://10.1.1.1/phones/"))}, "10.1.1.1", FromOption66, "phones", ""},
		{"66 url with file", []dhcpv4.Modifier{opt(66, []byte("tftp://10.1.1.1:6969/a/b/site.cfg"))}, "10.1.1.1:6969", FromOption66, "a/b", "site.cfg"},
		{"66 url file, 67 wins", []dhcpv4.Modifier{opt(66, []byte("tftp://10.1.1.1/site.cfg")), dhcpv4.WithOption(dhcpv4.OptBootFileName("x.cfg"))}, "10.1.1.1", FromOption66, "", "x.cfg"},
		{"66 host/folder", []dhcpv4.Modifier{opt(66, []byte("10.1.1.1/cfg"))}, "10.1.1.1", FromOption66, "cfg", ""},
		{"66 http skipped for 150", []dhcpv4.Modifier{opt(66, []byte("http://prov.example/")), opt(150, []byte{10, 3, 3, 3})}, "10.3.3.3", FromOption150, "", ""},
		{"66 garbage skipped", []dhcpv4.Modifier{opt(66, []byte("bad host!")), siaddr}, "10.0.2.9", FromSiaddr, "", ""},
		{"150 skips 0.0.0.0", []dhcpv4.Modifier{opt(150, []byte{0, 0, 0, 0, 10, 3, 3, 4})}, "10.3.3.4", FromOption150, "", ""},
		{"150 short skipped", []dhcpv4.Modifier{opt(150, []byte{10, 3, 3}), siaddr}, "10.0.2.9", FromSiaddr, "", ""},
		{"160 host", []dhcpv4.Modifier{opt(160, []byte("prov.example")), opt(43, sub(66, []byte("10.4.4.4"))), siaddr}, "prov.example", FromOption160, "", ""},
		{"160 url", []dhcpv4.Modifier{opt(160, []byte("tftp://prov.example/yealink/"))}, "prov.example", FromOption160, "yealink", ""},
		{"160 https skipped for 43", []dhcpv4.Modifier{opt(160, []byte("https://prov.example/")), opt(43, sub(66, []byte("10.4.4.4")))}, "10.4.4.4", FromOption43, "", ""},
		{"43 sub 66 url", []dhcpv4.Modifier{opt(43, sub(1, []byte("x"), 66, []byte("tftp://10.4.4.4/p/")))}, "10.4.4.4", FromOption43, "p", ""},
		{"43 sub 150", []dhcpv4.Modifier{opt(43, sub(150, []byte{10, 5, 5, 5}))}, "10.5.5.5", FromOption43, "", ""},
		{"43 cisco 241", []dhcpv4.Modifier{opt(43, append(sub(241, []byte{10, 6, 6, 6, 10, 6, 6, 7}), 255))}, "10.6.6.6", FromOption43, "", ""},
		{"43 plain text", []dhcpv4.Modifier{opt(43, []byte("tftp://10.7.7.7/"))}, "10.7.7.7", FromOption43, "", ""},
		{"43 unknown sub-options", []dhcpv4.Modifier{opt(43, sub(1, []byte{1, 2})), siaddr}, "10.0.2.9", FromSiaddr, "", ""},
		{"43 truncated binary", []dhcpv4.Modifier{opt(43, []byte{66, 9, 'a'}), siaddr}, "10.0.2.9", FromSiaddr, "", ""},
		{"siaddr", []dhcpv4.Modifier{siaddr}, "10.0.2.9", FromSiaddr, "", ""},
		{"server id", nil, "10.0.2.2", FromServerID, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := leaseFromACK("eth0", mac, ack(t, tt.mods...))
			if err != nil {
				t.Fatal(err)
			}
			if l.TFTPServer != tt.host || l.ServerSource != tt.src || l.ConfigDir != tt.dir || l.BootFile != tt.boot {
				t.Errorf("got server %q from %s, dir %q, boot file %q; want %q from %s, dir %q, boot %q",
					l.TFTPServer, l.ServerSource, l.ConfigDir, l.BootFile, tt.host, tt.src, tt.dir, tt.boot)
			}
		})
	}
}

func TestServerFromText(t *testing.T) {
	tests := []struct {
		in        string
		ok        bool
		host, dir string
		file      string
	}{
		{"10.0.0.1", true, "10.0.0.1", "", ""},
		{"10.0.0.1:6969", true, "10.0.0.1:6969", "", ""},
		{"  tftp.example\x00", true, "tftp.example", "", ""},
		{"TFTP://h/a/../b/", true, "h", "b", ""},
		{"tftp://h/../../etc/x.cfg", true, "h", "etc", "x.cfg"},
		{"tftp://h", true, "h", "", ""},
		{"tftp://", false, "", "", ""},
		{"ftp://h/", false, "", "", ""},
		{"", false, "", "", ""},
		{"h\x01", false, "", "", ""},
		{"-bad.example", false, "", "", ""},
		{"h:99999x", false, "", "", ""},
		{"héllo", false, "", "", ""},
	}
	for _, tt := range tests {
		ps, ok := serverFromText(tt.in)
		if ok != tt.ok || ps.host != tt.host || ps.dir != tt.dir || ps.file != tt.file {
			t.Errorf("serverFromText(%q) = %+v, %v; want %q %q %q %v", tt.in, ps, ok, tt.host, tt.dir, tt.file, tt.ok)
		}
	}
}
