package procstat

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	line := "4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 12 0 100 0 0\n"
	got, err := parseStat([]byte(line))
	require.NoError(t, err)
	require.InDelta(t, 3.25, got, 1e-9)

	_, err = parseStat([]byte("garbage"))
	require.Error(t, err)
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tprometheus\nVmPeak:\t  100 kB\nVmHWM:\t  2048 kB\nVmRSS:\t 1024 kB\n"
	got, err := parseStatusKB([]byte(status), "VmHWM:")
	require.NoError(t, err)
	require.Equal(t, int64(2048*1024), got)
	_, err = parseStatusKB([]byte(status), "VmSwap:")
	require.Error(t, err)
}

func TestSelf(t *testing.T) {
	_, err := CPUSeconds(os.Getpid())
	require.NoError(t, err)
	rss, err := PeakRSSBytes(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, rss)
}

func TestParseMachineBusy(t *testing.T) {
	got, err := parseMachineBusy([]byte("cpu  100 5 50 9000 40 1 2 3 0 0\ncpu0 50 2 25 4500 20 0 1 1 0 0\n"))
	require.NoError(t, err)
	require.InDelta(t, 1.61, got, 1e-9)
	_, err = parseMachineBusy([]byte("intr 1 2 3"))
	require.Error(t, err)

	u, err := Snapshot(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, u.Machine)
	d := Usage{Server: 1, Self: 0.5, Machine: 2}.Sub(Usage{})
	require.InDelta(t, 0.5, d.Background(), 1e-9)
}
