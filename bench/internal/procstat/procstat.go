// Package procstat reads a process's CPU time and memory high-water mark from Linux /proc.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It is 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// CPUSeconds returns the user plus system CPU time that process pid has used so far.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStat(b)
}

func parseStat(b []byte) (float64, error) {
	// The command name in field 2 may hold spaces and parentheses; fields after it are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("procstat: malformed stat line")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state is field 3, utime field 14, stime field 15 (1-based, man proc).
	if len(f) < 13 {
		return 0, fmt.Errorf("procstat: short stat line")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("procstat: bad utime/stime %q %q", f[11], f[12])
	}
	return float64(utime+stime) / clockTicks, nil
}

// PeakRSSBytes returns VmHWM, the largest resident set process pid has had.
func PeakRSSBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, "VmHWM:")
}

func parseStatusKB(b []byte, key string) (int64, error) {
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("procstat: no %s line", key)
}

// Usage is a snapshot of CPU counters: one process's, this process's own, and the whole
// machine's busy time, all in seconds.
type Usage struct {
	Server, Self, Machine float64
}

// Snapshot reads the CPU time of pid (if pid > 0), of the calling process, and the machine's
// busy time.
func Snapshot(pid int) (Usage, error) {
	var u Usage
	var err error
	if pid > 0 {
		if u.Server, err = CPUSeconds(pid); err != nil {
			return u, err
		}
	}
	if u.Self, err = CPUSeconds(os.Getpid()); err != nil {
		return u, err
	}
	u.Machine, err = MachineBusySeconds()
	return u, err
}

// Sub returns the usage between an earlier snapshot and u.
func (u Usage) Sub(earlier Usage) Usage {
	return Usage{Server: u.Server - earlier.Server, Self: u.Self - earlier.Self, Machine: u.Machine - earlier.Machine}
}

// Background is the machine's busy time used by neither the server nor the caller: other
// processes competing for the CPU during a measurement.
func (u Usage) Background() float64 { return max(u.Machine-u.Server-u.Self, 0) }

// MachineBusySeconds returns the CPU time all CPUs have spent not idle since boot.
func MachineBusySeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineBusy(b)
}

func parseMachineBusy(b []byte) (float64, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("procstat: unexpected /proc/stat first line %q", line)
	}
	// user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
	var busy uint64
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: /proc/stat field %d: %w", i+1, err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return float64(busy) / clockTicks, nil
}
