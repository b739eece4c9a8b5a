// Command provision writes the configuration files for a fleet of phones
// from a CSV file and a common template (docs/provisioning.md):
//
//	provision -csv fleet.csv -common common.cfg -out /srv/tftp
//	provision -genkey signing.key                # once: a signing key
//	provision -csv fleet.csv -common common.cfg -out /srv/tftp -key signing.key
//	provision -firmware bin/phoned-arm64 -version 1.2.0 -key signing.key -out /srv/tftp/phoned-1.2.0.img
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/deskphone/deskphone/tools/provision"
)

func main() {
	csvFile := flag.String("csv", "", "the fleet: a CSV with the header mac,user,password,display_name[,key...]")
	common := flag.String("common", "", "the common template (key = value lines); empty: none")
	commonName := flag.String("common-name", "phone.cfg", "name of the common file (the DHCP boot file, option 67)")
	out := flag.String("out", "", "folder to write the files into (the TFTP server's root)")
	keyFile := flag.String("key", "", "sign every file with this Ed25519 private key file (writes <file>.sig)")
	genKey := flag.String("genkey", "", "write a new Ed25519 private key to this file (mode 0600) and print its public key")
	firmware := flag.String("firmware", "", "sign this phoned binary as a firmware image (with -version, -key; -out is the image file)")
	version := flag.String("version", "", "the firmware image's version, 1.2.3 (the -ldflags -X main.version the binary was built with)")
	flag.Parse()

	if *firmware != "" {
		if *version == "" || *keyFile == "" || *out == "" {
			fail(fmt.Errorf("provision: -firmware needs -version, -key and -out"))
		}
		k, err := provision.ReadKey(*keyFile)
		if err != nil {
			fail(err)
		}
		h, err := provision.WriteFirmware(*out, k, *version, *firmware)
		if err != nil {
			fail(err)
		}
		fmt.Printf("wrote %s: firmware %s for %s, %d bytes, SHA-256 %x. The phones take it with:\nfirmware.url = %s\nfirmware.public_key = %s\n",
			*out, h.Version, h.Arch, h.Length, h.SHA256, filepath.Base(*out), base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey)))
		return
	}

	if *genKey != "" {
		priv, err := provision.GenerateKey(*genKey, rand.Reader)
		if err != nil {
			fail(err)
		}
		fmt.Printf("wrote %s; keep it secret. The phones trust:\nprovision.public_key = %s\n",
			*genKey, base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)))
		return
	}
	if *csvFile == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: provision -csv FLEET.csv -out DIR [-common TEMPLATE] [-key KEY] | -genkey KEY | -firmware PHONED -version V -key KEY -out IMAGE")
		flag.PrintDefaults()
		os.Exit(2)
	}
	var o provision.Options
	o.CSVName, o.CommonName = filepath.Base(*csvFile), *commonName
	if *common != "" {
		b, err := os.ReadFile(*common)
		if err != nil {
			fail(err)
		}
		o.Common = b
	}
	var key ed25519.PrivateKey
	if *keyFile != "" {
		k, err := provision.ReadKey(*keyFile)
		if err != nil {
			fail(err)
		}
		key, o.PublicKey = k, k.Public().(ed25519.PublicKey)
	}
	f, err := os.Open(*csvFile)
	if err != nil {
		fail(err)
	}
	fleet, err := provision.Build(f, o)
	f.Close()
	if err != nil {
		fail(err)
	}
	names, err := fleet.Write(*out, key)
	if err != nil {
		fail(err)
	}
	signed := "unsigned"
	if key != nil {
		signed = "signed"
	}
	fmt.Printf("wrote %d files (%s) for %d phones into %s\n", len(names), signed, len(fleet.Phones), *out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
