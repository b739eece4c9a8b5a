package netboot

import (
	"net"
	"strings"
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
		{"66 http", []dhcpv4.Modifier{opt(66, []byte("http://prov.example/phones/")), opt(150, []byte{10, 3, 3, 3})}, "http://prov.example", FromOption66, "phones", ""},
		{"66 ftp skipped for 150", []dhcpv4.Modifier{opt(66, []byte("ftp://prov.example/")), opt(150, []byte{10, 3, 3, 3})}, "tftp://10.3.3.3", FromOption150, "", ""},
		{"66 garbage skipped", []dhcpv4.Modifier{opt(66, []byte("bad host!")), siaddr}, "10.0.2.9", FromSiaddr, "", ""},
		{"150 skips 0.0.0.0", []dhcpv4.Modifier{opt(150, []byte{0, 0, 0, 0, 10, 3, 3, 4})}, "10.3.3.4", FromOption150, "", ""},
		{"150 short skipped", []dhcpv4.Modifier{opt(150, []byte{10, 3, 3}), siaddr}, "10.0.2.9", FromSiaddr, "", ""},
		{"160 host", []dhcpv4.Modifier{opt(160, []byte("prov.example")), opt(43, sub(66, []byte("10.4.4.4"))), siaddr}, "prov.example", FromOption160, "", ""},
		{"160 url", []dhcpv4.Modifier{opt(160, []byte("tftp://prov.example/yealink/"))}, "prov.example", FromOption160, "yealink", ""},
		{"160 https", []dhcpv4.Modifier{opt(160, []byte("https://prov.example:8443/p/site.cfg")), opt(43, sub(66, []byte("10.4.4.4")))}, "https://prov.example:8443", FromOption160, "p", "site.cfg"},
		{"160 https with a query skipped for 43", []dhcpv4.Modifier{opt(160, []byte("https://prov.example/?mac=1")), opt(43, sub(66, []byte("10.4.4.4")))}, "tftp://10.4.4.4", FromOption43, "", ""},
		{"43 sub 66 https", []dhcpv4.Modifier{opt(43, sub(66, []byte("https://10.4.4.4/p/")))}, "https://10.4.4.4", FromOption43, "p", ""},
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
			want := tt.host
			if !strings.Contains(want, "://") {
				want = "tftp://" + want
			}
			if got := l.Scheme + "://" + l.Server; got != want || l.ServerSource != tt.src || l.ConfigDir != tt.dir || l.BootFile != tt.boot {
				t.Errorf("got server %q from %s, dir %q, boot file %q; want %q from %s, dir %q, boot %q",
					got, l.ServerSource, l.ConfigDir, l.BootFile, want, tt.src, tt.dir, tt.boot)
			}
		})
	}
}
