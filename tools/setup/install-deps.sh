#!/usr/bin/env bash
# Installs what building, running and testing the phone needs on a Debian 12
# machine: QEMU for arm64 (the phones), sipp (sip-tester), sipvicious (the scan the phone must ignore), tftpd-hpa, kamailio
# and baresip (real peers the tests talk to on 127.0.0.1), dnsmasq-base
# (the binary alone, no system service: the DNS server sipua/resolve's test
# starts on 127.0.0.1 to serve NAPTR, SRV and A records), dtc
# (device-tree-compiler: the Raspberry Pi image's device trees) and sfdisk,
# fsck.fat and mtools (fdisk, dosfstools, mtools: the image checked as other
# tools read it), nginx-light (HTTP(S) provisioning and firmware downloads),
# ffmpeg (an independent G.722 codec), chromium (the phone's web page in a
# headless browser), rtpengine-daemon (the media relay beside Kamailio),
# pulseaudio (a sound server with a null sink for the panel's sound),
# rsyslog (the phone's remote log), chrony (an NTP server for the phone's
# clock) and kamailio-tls-modules (SIP over TLS
# with certificate checks), each started by its own test, never as a system
# service; then the Go modules (the kernel for QEMU among them; the Pi's
# boot firmware in tools/piimage's own module) and Debian's arm64 kernel for the Pi image. Safe to run again: it installs only what
# is missing. Go itself (1.26 or newer) must be on PATH already.
set -euo pipefail
cd "$(dirname "$0")/../.."

pkgs=(qemu-system-arm sip-tester tftpd-hpa kamailio kamailio-tls-modules baresip sipvicious dnsmasq-base device-tree-compiler fdisk dosfstools mtools
	nginx-light ffmpeg chromium rtpengine-daemon pulseaudio rsyslog chrony)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
	echo "install-deps: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# Debian starts and enables a system-wide Kamailio on port 5060 (where
	# `make run` puts the development PBX); the tests run their own.
	# nginx, rtpengine and rsyslog likewise start system services; every
	# test starts its own instance on loopback.
	if command -v systemctl >/dev/null 2>&1; then
		for svc in kamailio nginx rtpengine-daemon rsyslog chrony; do
			$sudo systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
		done
	fi
fi

if ! command -v go >/dev/null 2>&1; then
	echo "install-deps: Go is not on PATH (need Go 1.26 or newer, e.g. /usr/local/go/bin)" >&2
	exit 1
fi
ver=$(go env GOVERSION | sed 's/^go//')
major=${ver%%.*}; rest=${ver#*.}; minor=${rest%%.*}
if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 26 ]; }; then
	echo "install-deps: Go $ver is too old; need 1.26 or newer" >&2
	exit 1
fi
go mod download
(cd tools/sipbench && go mod download) # emiago/sipgo, for the side-by-side parser benchmark only
(cd tools/webtest && go mod download) # chromedp, for the web page test in Chromium only
(cd tools/piimage && go mod download) # go-diskfs and the Pi's boot firmware, for the SD card image only
bash tools/setup/debian-kernel.sh # Debian's arm64 kernel: the Pi image's, and snd-aloop for the ALSA test (tools/alsatest)
echo "install-deps: ok ($(qemu-system-aarch64 --version | head -1); go $ver)"
