package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timing is one external command's median wall time and CPU time over the timed runs.
type timing struct {
	Command     string    `json:"command"`
	WallMS      []float64 `json:"wall_ms"`
	MedianMS    float64   `json:"median_ms"`
	CPUSeconds  float64   `json:"cpu_seconds"` // user+sys of the median run
	MBPerSecond float64   `json:"mb_per_second"`
	MBPerCore   float64   `json:"mb_per_cpu_second"`
}

type baselineResult struct {
	Files       []string `json:"files"`
	RawBytes    int64    `json:"raw_bytes"`
	Lines       int64    `json:"lines"`
	Needle      string   `json:"needle"`
	GrepCount   int      `json:"grep_count"` // lines holding the needle: the generator's needle_lines
	Grep        timing   `json:"grep"`
	ZstdLevel   int      `json:"zstd_level"`
	ZstdBytes   int64    `json:"zstd_bytes"`
	ZstdRatio   float64  `json:"zstd_ratio"`
	ZstdPerLn   float64  `json:"zstd_bytes_per_line"`
	Zstd        timing   `json:"zstd"`
	ZstdGrep    timing   `json:"zstdcat_grep"`
	ZstdVersion string   `json:"zstd_version"`
	GrepVersion string   `json:"grep_version"`
}

func runBaseline(ctx context.Context, args []string) error {
	var files multi
	fs := newFlagSet("baseline")
	fs.Var(&files, "file", "raw log file (repeatable)")
	needle := fs.String("needle", "", "fixed string to count with grep -c -F")
	lines := fs.Int64("lines", 0, "lines in the files, for bytes per line")
	level := fs.Int("zstd-level", 3, "zstd compression level")
	runs := fs.Int("runs", 5, "timed grep runs after one warm-up (zstd compression runs once)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(files) == 0 || *needle == "" || *runs < 1 {
		return errors.New("want -file, -needle and -runs ≥ 1")
	}
	for _, tool := range []string{"grep", "zstd", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (Debian: apt-get install -y %s)", tool, tool)
		}
	}
	res := &baselineResult{Files: files, Needle: *needle, Lines: *lines, ZstdLevel: *level}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		res.RawBytes += st.Size()
	}
	res.ZstdVersion = strings.Trim(firstLine(ctx, "zstd", "--version"), "* ")
	res.GrepVersion = firstLine(ctx, "grep", "--version")

	// The files were just written, so they are in the page cache: grep's figure is a scan at
	// memory speed, the best any full scan can do on this machine.
	grepArgs := append([]string{"-c", "-h", "-F", *needle}, files...)
	out, t, err := timeCommand(ctx, *runs, "grep", grepArgs...)
	if err != nil {
		return err
	}
	res.Grep = t
	for f := range strings.FieldsSeq(out) {
		n, _ := strconv.Atoi(f)
		res.GrepCount += n
	}

	var zfiles []string
	for _, f := range files {
		z := f + ".zst"
		zfiles = append(zfiles, z)
		defer os.Remove(z)
	}
	zargs := append([]string{"-q", "-f", "-T1", "-" + strconv.Itoa(*level)}, files...)
	if _, t, err = timeCommand(ctx, 1, "zstd", zargs...); err != nil {
		return err
	}
	res.Zstd = t
	for _, z := range zfiles {
		st, err := os.Stat(z)
		if err != nil {
			return err
		}
		res.ZstdBytes += st.Size()
	}
	script := `zstd -dc -T1 "$@" | LC_ALL=C grep -c -F "$NEEDLE"`
	cmd := append([]string{"-c", script, "sh"}, zfiles...)
	if _, t, err = timeCommandEnv(ctx, *runs, []string{"NEEDLE=" + *needle}, "sh", cmd...); err != nil {
		return err
	}
	res.ZstdGrep = t

	for _, t := range []*timing{&res.Grep, &res.Zstd, &res.ZstdGrep} {
		if t.MedianMS > 0 {
			t.MBPerSecond = float64(res.RawBytes) / 1e6 / (t.MedianMS / 1000)
		}
		if t.CPUSeconds > 0 {
			t.MBPerCore = float64(res.RawBytes) / 1e6 / t.CPUSeconds
		}
	}
	if res.ZstdBytes > 0 {
		res.ZstdRatio = float64(res.RawBytes) / float64(res.ZstdBytes)
	}
	if res.Lines > 0 {
		res.ZstdPerLn = float64(res.ZstdBytes) / float64(res.Lines)
	}
	return emit(res)
}

func timeCommand(ctx context.Context, runs int, name string, args ...string) (string, timing, error) {
	return timeCommandEnv(ctx, runs, nil, name, args...)
}

// timeCommandEnv runs a command once untimed (when runs > 1) and then runs times, and returns
// the output of the last run and the median wall time with that run's CPU time.
func timeCommandEnv(ctx context.Context, runs int, env []string, name string, args ...string) (string, timing, error) {
	t := timing{Command: name + " " + strings.Join(args, " ")}
	type sample struct{ ms, cpu float64 }
	var samples []sample
	var out string
	total := runs
	if runs > 1 {
		total++
	}
	for i := range total {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), append([]string{"LC_ALL=C"}, env...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		t0 := time.Now()
		err := cmd.Run()
		ms := float64(time.Since(t0).Microseconds()) / 1000
		// grep -c exits 1 when it counts no match; that is a result, not a failure.
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1 && name != "zstd") {
			return "", t, fmt.Errorf("%s: %v: %s", t.Command, err, strings.TrimSpace(stderr.String()))
		}
		out = stdout.String()
		if runs > 1 && i == 0 {
			continue
		}
		ps := cmd.ProcessState
		samples = append(samples, sample{ms, (ps.UserTime() + ps.SystemTime()).Seconds()})
	}
	slices.SortFunc(samples, func(a, b sample) int { return int((a.ms - b.ms) * 1000) })
	for _, s := range samples {
		t.WallMS = append(t.WallMS, s.ms)
	}
	mid := samples[len(samples)/2]
	t.MedianMS, t.CPUSeconds = mid.ms, mid.cpu
	return out, t, nil
}

func firstLine(ctx context.Context, name string, args ...string) string {
	b, _ := exec.CommandContext(ctx, name, args...).Output()
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}
