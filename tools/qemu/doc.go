// Package qemu runs phones in QEMU: qemu-system-aarch64 -M virt with the
// arm64 kernel of the pinned github.com/gokrazy/kernel.arm64 module, an
// initramfs whose /init is the phone binary, virtio-net on QEMU's user
// network, and the virtual panel on two virtio-serial ports.
//
// # Provisioning
//
// QEMU's user network is the provisioning path under test: its DHCP server
// gives the phone 10.0.2.15/24, router and DNS 10.0.2.2/10.0.2.3, and, with
// tftp=DIR,bootfile=FILE,tftp-server-name=10.0.2.2, the boot file name and
// the TFTP server name (option 66); its built-in TFTP server serves
// Phone.TFTPDir read-only at 10.0.2.2. Every phone is 10.0.2.15 on its own
// private network; the MAC (Phone.MAC) is what tells phones apart, and what
// names each phone's own <mac>.cfg.
//
// # Reaching a phone behind QEMU's NAT
//
// The user network is a NAT: the guest can open connections and send
// datagrams to the host (as 10.0.2.2) and beyond, but nothing reaches the
// guest unless it answered a packet the guest sent or it arrives on a
// forwarded port. A phone in QEMU is reached in two ways, both used:
//
//   - SIP through the registrar, the way phones behind home routers are: the
//     phone registers with the development PBX at 10.0.2.2 (on the host's
//     127.0.0.1). The registrar keeps the source address and port the
//     REGISTER came from (rport, RFC 3581) as the contact, and sends
//     requests for the phone there, through the NAT's mapping; the phone's
//     keep-alives (re-REGISTER or CRLF, well inside the NAT's UDP timeout)
//     keep the mapping open.
//   - Forwarded ports: the runner forwards host UDP 127.0.0.1:SIPPort to the
//     guest's SIPPort, and each port of RTPMin..RTPMax from the same host
//     port to the same guest port. Keep the range small (about 10 ports)
//     and give each phone its own ports, since they share the host. The web
//     page (TCP, admin.port: 443 by default) is forwarded from host
//     127.0.0.1:WebPort when WebPort is set.
//
// Media: a phone advertises its own address, 10.0.2.15, in SDP, which no
// other phone can reach. So a phone in QEMU is configured with
// nat.public_address = 10.0.2.2 and advertises 10.0.2.2 and one of its RTP
// ports. Another QEMU phone, which also sees the host as 10.0.2.2, sends RTP
// there; it leaves that phone's NAT towards the host's 127.0.0.1 on that
// port, which the host forwards into the first phone. A program on the host
// (a test or the PBX) reaches the same phone at 127.0.0.1 on that port. The
// phone must send its own RTP from the port it advertises, so replies fit the
// same mapping (symmetric RTP). A softphone on the host cannot send to
// 10.0.2.2, and the phone cannot reach the host's 127.0.0.1, so the
// development PBX relays the media of such calls (tools/pbx/relay.go), as
// a Kamailio does with rtpengine.
//
// # Storage
//
// Phone.Disk attaches a raw image as a virtio block device, the guest's
// /dev/vda, where the phone keeps its last good configuration, its web
// certificate (firmware/storage), its boot record and two firmware slots
// (firmware/update); Start creates a zeroed, sparse 64 MiB image
// (DiskSize) when the file is absent, and the image outlives the instance,
// like a phone's flash.
//
// # Panel
//
// Phone.Panel "unix:/dir/p.sock" gives QEMU socket servers at /dir/p.sock
// (control) and /dir/p.sock.audio (audio); "tcp:127.0.0.1:7000" gives ports
// 7000 and 7001. They connect to the guest's virtio-serial ports named
// "panel" and "panel.audio" (/dev/vport* with those names in sysfs).
package qemu
