package app

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lookout-dev/lookout/internal/config"
)

// watchConfig reloads when the config file, a rule file (metric or log) or the
// Alertmanager config (and its templates) change on disk. It compares
// content digests, so touching a file without changing it does nothing,
// and a failed reload is not retried until the files change again.
func (a *App) watchConfig() {
	if a.opts.ConfigFile == "" {
		return
	}
	interval := time.Duration(a.config().Server.ConfigWatchInterval)
	if interval <= 0 {
		return
	}
	// The baseline is the files as they were when Start read the config,
	// so a change made while the server was still starting is not missed.
	last := a.startDigest
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
		d := watchedDigest(a.opts.ConfigFile, a.config())
		if d == last {
			continue
		}
		last = d
		a.logger.Info("configuration files changed on disk; reloading")
		if err := a.Reload(); err != nil {
			a.logger.Warn("config reload failed; the previous config keeps running", "err", err)
			continue
		}
		// The reload may have added or removed watched files.
		last = watchedDigest(a.opts.ConfigFile, a.config())
	}
}

// watchedDigest hashes the names and contents of every file the config
// consists of.
func watchedDigest(file string, cfg *config.Config) [32]byte {
	files := []string{file}
	globs := append(slices.Clone(cfg.Prometheus.RuleFiles), cfg.Logs.RuleFiles...)
	if am := cfg.Alertmanager; am.ConfigFile != "" {
		files = append(files, am.ConfigFile)
	}
	if am := cfg.Alertmanager.Parsed; am != nil {
		globs = append(globs, am.Templates...)
	}
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range slices.Compact(files) {
		b, err := os.ReadFile(f)
		h.Write([]byte(f))
		if err != nil {
			h.Write([]byte("\x00missing"))
		}
		h.Write(b)
		h.Write([]byte{0})
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
