#!/usr/bin/env bash
# Fetches Debian's arm64 kernel package (linux-image-arm64 and the
# linux-image-*-arm64 it depends on) with apt-get download, and unpacks
# vmlinuz, the Raspberry Pi device trees and the modules the ALSA test and
# the Raspberry Pi image need (the list below and their dependencies,
# resolved from each module's .modinfo) into a cache folder outside the
# repository:
#
#   $DESKPHONE_CACHE/debian-kernel/   (default ~/.cache/deskphone)
#     vmlinuz, version, wanted, modules.dep, modules.load,
#     modules/<name>.ko[.xz|.zst], dtbs/broadcom/bcm2*-rpi-*.dtb
#
# modules.load lists every module file in load order (dependencies first);
# modules.dep (depmod's format) lets a user load only a part of them in
# order (tools/kmod does).
# apt runs with its own state and cache folders under the cache (an arm64
# package list of the machine's sources), so the machine's apt state, its
# architectures and its locks are left alone; no root needed. Safe to run
# again: it does nothing once the kernel is there (FORCE=1 fetches again).
set -euo pipefail

cache=${DESKPHONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deskphone}
out=$cache/debian-kernel
# snd-aloop: the ALSA loopback test (tools/alsatest). The rest: a Raspberry
# Pi phone (boards.Board.Modules): the I2S controller, the codec-less sound
# card, I2C for the codec's registers, PWM for a buzzer, SD card, and the
# wired network of each board (Pi 4 GENET, Pi 3 SMSC/LAN78xx over DWC2 USB,
# a USB CDC or RNDIS adapter on a Zero 2 W and QEMU's usb-net) and the
# watchdog the Pi restarts by.
want=(snd-aloop
	snd-soc-bcm2835-i2s snd-soc-simple-card snd-soc-spdif-tx snd-soc-spdif-rx
	i2c-bcm2835 i2c-dev pwm-bcm2835 sdhci-iproc bcm2835
	genet broadcom mdio-bcm-unimac phy-generic dwc2 smsc95xx lan78xx cdc_ether rndis_host bcm2835_wdt)

if [ -z "${FORCE:-}" ] && [ -s "$out/vmlinuz" ] && [ -s "$out/modules.load" ] &&
	[ "$(cat "$out/wanted" 2>/dev/null)" = "${want[*]}" ] && [ -d "$out/dtbs/broadcom" ]; then
	echo "debian-kernel: $(cat "$out/version") already in $out"
	exit 0
fi
for c in apt-get apt-cache dpkg-deb tar; do
	command -v "$c" >/dev/null || { echo "debian-kernel: $c not found (a Debian machine is needed)" >&2; exit 1; }
done

apt=$cache/apt
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$cache"
opts=(-q -o APT::Architecture=arm64 -o APT::Architectures::=arm64
	-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt" -o Dir::State::status=/dev/null
	-o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
echo "debian-kernel: apt-get update (arm64 lists in $apt)"
apt-get "${opts[@]}" update >/dev/null
pkg=$(apt-cache "${opts[@]}" depends linux-image-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\)$/\1/p' | head -1)
if [ -z "$pkg" ]; then
	echo "debian-kernel: linux-image-arm64 names no linux-image-*-arm64 package" >&2
	exit 1
fi

work=$(mktemp -d "$cache/debian-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${opts[@]}" download "$pkg" >/dev/null)
deb=$(ls "$work"/*.deb)
echo "debian-kernel: unpacking $(basename "$deb")"
mkdir "$work/root"
# Member names start with ./ in Debian's packages; --wildcards matches both.
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/root" --wildcards --no-anchored \
	'boot/vmlinuz-*' 'lib/modules/*' 'usr/lib/linux-image-*/broadcom/bcm2*-rpi-*.dtb'
ver=$(ls "$work/root/lib/modules")
mods=$work/root/lib/modules/$ver

# modules.dep: the package does not ship one (depmod writes it when the
# package is installed), so it is built here for the modules wanted and
# their dependencies, from each module's .modinfo "depends=" (what depmod
# reads), in depmod's format (paths relative to the modules folder).
declare -A path
while IFS= read -r f; do
	n=$(basename "$f"); n=${n%%.ko*}; path[${n//-/_}]=${f#"$mods"/}
done < <(find "$mods/kernel" -name '*.ko*')
modinfo_depends() {
	case $1 in
	*.xz) xz -dc "$1" ;; *.zst) zstd -dc "$1" ;; *.gz) gzip -dc "$1" ;; *) cat "$1" ;;
	esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -1 | tr ',' ' '
}
declare -A seen
: >"$mods/modules.dep"
queue=("${want[@]}")
while ((${#queue[@]})); do
	n=${queue[0]//-/_}; queue=("${queue[@]:1}")
	[ -n "${seen[$n]:-}" ] && continue
	seen[$n]=1
	[ -n "${path[$n]:-}" ] || { echo "debian-kernel: module $n not in $pkg" >&2; exit 1; }
	deps=()
	for d in $(modinfo_depends "$mods/${path[$n]}"); do deps+=("${path[${d//-/_}]}"); queue+=("$d"); done
	echo "${path[$n]}: ${deps[*]}" >>"$mods/modules.dep"
done

# Load order from modules.dep: each module after its dependencies.
declare -A dep placed
while IFS= read -r line; do dep[${line%%:*}]=${line#*:}; done <"$mods/modules.dep"
order=()
place() {
	local m=$1 d
	[ -n "${placed[$m]:-}" ] && return
	placed[$m]=1
	for d in ${dep[$m]}; do place "$d"; done
	order+=("$m")
}
for w in "${want[@]}"; do
	m=$(printf '%s\n' "${!dep[@]}" | grep -E "/${w}\.ko(\.xz|\.zst|\.gz)?$" | head -1)
	[ -n "$m" ] || { echo "debian-kernel: $w is not in $pkg's modules.dep" >&2; exit 1; }
	place "$m"
done

rm -rf "$out.new"
mkdir -p "$out.new/modules"
cp "$work"/root/boot/vmlinuz-* "$out.new/vmlinuz"
mkdir -p "$out.new/dtbs/broadcom"
cp "$work"/root/usr/lib/linux-image-*/broadcom/bcm2*-rpi-*.dtb "$out.new/dtbs/broadcom/"
: >"$out.new/modules.dep"
for m in "${order[@]}"; do
	cp "$mods/$m" "$out.new/modules/"
	basename "$m" >>"$out.new/modules.load"
	echo "$m:${dep[$m]}" >>"$out.new/modules.dep"
done
echo "$pkg $ver" >"$out.new/version"
echo "${want[*]}" >"$out.new/wanted"
rm -rf "$out"
mv "$out.new" "$out"
echo "debian-kernel: $pkg ($ver): vmlinuz, $(ls "$out/dtbs/broadcom" | wc -l) Raspberry Pi device trees and ${#order[@]} modules in $out"
