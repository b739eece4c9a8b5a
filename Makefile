# The README's two commands are `make run` and `make test`; each installs
# what it needs first (tools/setup/install-deps.sh).
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: deps run demo test unit race peers e2e bench fuzz build image perf fleet

deps:
	@bash tools/setup/install-deps.sh

# The development PBX and one phone in QEMU, with the terminal panel attached.
# PHONES=1001,1002 boots more; the panel drives them all (Tab switches).
# RUNFLAGS="-sound none -mic hello.wav -record ear.wav" (tools/sound).
PHONES ?= 1001
RUNFLAGS ?=
run: deps
	$(GO) run ./tools/cmd/run -phones $(PHONES) $(RUNFLAGS)

# Two phones in QEMU: 1001 calls 1002, a tone each way, the SIP ladder.
demo: deps
	$(GO) run ./tools/cmd/demo

# Unit tests (-short), then the core packages without -short under the race
# detector, then the tests against real peers and QEMU (Kamailio, baresip,
# the boot probe, the virtio-serial panel, ALSA on Debian's kernel, the
# Raspberry Pi image booted on QEMU's raspi3b), then the phones end to end
# (tools/lab: the two-phone call in QEMU and on the sim board, voicemail,
# forwarding and the other call features; tools/webtest: the web page in
# Chromium), then every benchmark once.
# Every test that skips with -short runs in race, peers or e2e.
test: deps unit race peers e2e bench

# tools/piimage is its own module (go-diskfs, the Pi's boot firmware), so
# ./... of the root leaves it out: each step that tests the tools names it.
unit:
	$(GO) vet ./...
	cd tools/piimage && $(GO) vet ./...
	$(GO) test -short -count=1 -timeout 8m ./...
	cd tools/piimage && $(GO) test -short -count=1 -timeout 8m ./...

# The SIP user agent, the media engine and the firmware with -race and
# without -short: their tests against real peers (sipp, sipvicious,
# tftpd-hpa) and their long ones (timer F, an hour of jitter-buffer frames)
# run here, under the race detector, and not again in peers.
race:
	$(GO) test -race -count=1 -timeout 10m ./sipua/... ./audio/... ./firmware/...

# hal and the tools without -short (tools/lab is e2e), tools/perf's
# short run of make perf among them, and tools/piimage (own module: the
# Raspberry Pi image booted on QEMU's raspi3b).
peers:
	$(GO) test -count=1 -timeout 8m ./hal/... $$($(GO) list ./tools/... | grep -v /tools/lab$$)
	cd tools/piimage && $(GO) test -count=1 -timeout 8m ./...

# tools/webtest: the web page in headless Chromium against a QEMU phone
# (own module: chromedp). DESKPHONE_SCREENSHOTS=DIR keeps its screenshots.
e2e:
	$(GO) test -count=1 -timeout 10m -v ./tools/lab
	cd tools/webtest && $(GO) test -count=1 -timeout 5m -v .

bench:
	$(GO) test -short -count=1 -run '^$$' -bench . -benchtime=1x ./...
	cd tools/piimage && $(GO) test -short -count=1 -run '^$$' -bench . -benchtime=1x ./...
	$(MAKE) sipbench

# sipmsg against emiago/sipgo and sipua/sdp against pion/sdp/v3, side by
# side (own module: tools/sipbench).
# BENCHTIME=1s for real figures.
BENCHTIME ?= 1x
.PHONY: sipbench
sipbench:
	cd tools/sipbench && $(GO) test -count=1 -run . -bench . -benchmem -benchtime=$(BENCHTIME) .

# The whole phone against baresip (tools/perf): two sim phones in a call
# and two baresips in a call through the development PBX, each process's
# memory, CPU time, wake-ups and threads from /proc, idle and over one
# call window (25 s). Not part of test: make peers runs it once for 3 s
# (tools/perf's TestRun). PERFFLAGS="-call 60s -threads" or "-json".
PERFFLAGS ?=
perf: deps
	$(GO) run ./tools/cmd/perf $(PERFFLAGS)

# The fleet benchmark (tools/fleet): N sim phones, the real firmware in
# one process, each on its own loopback address, provisioned from
# tftpd-hpa (files written by tools/provision from a generated CSV) and
# registering with digest auth to Kamailio (usrloc, a subscriber table);
# then a building power cut (all N stop, and boot again within 1 s), C
# concurrent calls through Kamailio (4 with a tone each way checked), a
# resync storm (check-sync to every phone); it prints the time until all
# are registered, REGISTERs/s at the peak, 401s and retransmissions, CPU
# and memory, failed registrations and calls. Not part of test: make
# peers runs it once at N=20 C=4 (tools/fleet's TestRun).
# FLEETFLAGS="-v -trace 20001" prints progress and one phone's log.
N ?= 1000
C ?= 100
FLEETFLAGS ?=
fleet: deps
	$(GO) run ./tools/cmd/fleet -n $(N) -c $(C) $(FLEETFLAGS)

# The SD card image of a Raspberry Pi phone (3B, 4B and Zero 2 W in one
# image; BOARDS=rpi4b for one): write it to a card with dd. The command
# runs in its own module (tools/piimage), IMAGE relative to this folder.
IMAGE ?= deskphone-rpi.img
BOARDS ?=
image: deps
	cd tools/piimage && $(GO) run ./cmd/piimage -o $(abspath $(IMAGE)) -boards "$(BOARDS)"

build:
	CGO_ENABLED=0 $(GO) build -o bin/phoned ./firmware/cmd/phoned
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags "-s -w" -o bin/phoned-arm64 ./firmware/cmd/phoned
