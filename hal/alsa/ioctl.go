package alsa

// The kernel's PCM ioctl ABI (include/uapi/sound/asound.h) for 64-bit
// targets. The structures are declared on every platform so that their
// sizes are tested on any PC.

const (
	paramAccess    = 0 // masks
	paramFormat    = 1
	paramSubformat = 2

	paramSampleBits = 8 // intervals
	paramFrameBits  = 9
	paramChannels   = 10
	paramRate       = 11
	paramPeriodSize = 13
	paramPeriods    = 15
	paramBufferSize = 17

	accessRWInterleaved = 3
	formatS16LE         = 2
	subformatStd        = 0

	intervalInteger = 1 << 2 // snd_interval bit fields: openmin, openmax, integer, empty
	intervalEmpty   = 1 << 3
)

// ioctl request numbers: _IOWR('A', 0x11, snd_pcm_hw_params) and so on.
const (
	ioctlHwParams  = 0xc2604111
	ioctlSwParams  = 0xc0884113
	ioctlPrepare   = 0x00004140
	ioctlStart     = 0x00004142
	ioctlDrop      = 0x00004143
	ioctlResume    = 0x00004147
	ioctlWriteiFr  = 0x40184150
	ioctlReadiFr   = 0x80184151
	ioctlPVersion  = 0x80044100
	sizeofHwParams = 608
	sizeofSwParams = 136
	sizeofXferi    = 24
)

type mask struct{ bits [8]uint32 }

type interval struct{ min, max, flags uint32 }

// hwParams is struct snd_pcm_hw_params.
type hwParams struct {
	flags     uint32
	masks     [3]mask
	mres      [5]mask
	intervals [12]interval
	ires      [9]interval
	rmask     uint32
	cmask     uint32
	info      uint32
	msbits    uint32
	rateNum   uint32
	rateDen   uint32
	fifoSize  uint64
	reserved  [64]byte
}

// swParams is struct snd_pcm_sw_params.
type swParams struct {
	tstampMode       int32
	periodStep       uint32
	sleepMin         uint32
	_                uint32
	availMin         uint64
	xferAlign        uint64
	startThreshold   uint64
	stopThreshold    uint64
	silenceThreshold uint64
	silenceSize      uint64
	boundary         uint64
	proto            uint32
	tstampType       uint32
	reserved         [56]byte
}

// xferi is struct snd_xferi.
type xferi struct {
	result int64
	buf    uintptr
	frames uint64
}

// any opens every parameter to every value, as _snd_pcm_hw_params_any does.
func (h *hwParams) any() {
	*h = hwParams{}
	for i := range h.masks {
		for j := range h.masks[i].bits {
			h.masks[i].bits[j] = ^uint32(0)
		}
	}
	for i := range h.intervals {
		h.intervals[i] = interval{0, ^uint32(0), 0}
	}
	h.rmask = ^uint32(0)
	h.info = ^uint32(0)
}

func (h *hwParams) setMask(param int, v uint32) {
	m := &h.masks[param]
	m.bits = [8]uint32{}
	m.bits[v>>5] |= 1 << (v & 31)
}

func (h *hwParams) setInt(param int, v uint32) {
	h.intervals[param-paramSampleBits] = interval{v, v, intervalInteger}
}

func (h *hwParams) interval(param int) interval { return h.intervals[param-paramSampleBits] }

// set asks for interleaved S16_LE at these parameters.
func (h *hwParams) set(p streamParams) {
	h.any()
	h.setMask(paramAccess, accessRWInterleaved)
	h.setMask(paramFormat, formatS16LE)
	h.setMask(paramSubformat, subformatStd)
	h.setInt(paramSampleBits, 16)
	h.setInt(paramFrameBits, uint32(16*p.channels))
	h.setInt(paramChannels, uint32(p.channels))
	h.setInt(paramRate, uint32(p.rate))
	h.setInt(paramPeriodSize, uint32(p.period))
	h.setInt(paramPeriods, uint32(p.periods))
	h.setInt(paramBufferSize, uint32(p.period*p.periods))
}
