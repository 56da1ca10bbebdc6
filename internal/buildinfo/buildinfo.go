// Package buildinfo reports the version of the running binary.
package buildinfo

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// Set with -ldflags "-X github.com/lookout-dev/lookout/internal/buildinfo.Version=…".
var (
	Version   = "0.1.0-dev"
	Revision  = ""
	Branch    = ""
	BuildUser = ""
	BuildDate = ""
)

// Info is the build description served at /api/v1/status/buildinfo.
type Info struct {
	Version, Revision, Branch, BuildUser, BuildDate, GoVersion string
}

// Get returns the build info, filling the revision from the Go toolchain's
// VCS stamp when ldflags did not set it.
func Get() Info {
	in := Info{Version: Version, Revision: Revision, Branch: Branch, BuildUser: BuildUser, BuildDate: BuildDate, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Revision == "" {
					in.Revision = s.Value
				}
			case "vcs.time":
				if in.BuildDate == "" {
					in.BuildDate = s.Value
				}
			}
		}
	}
	return in
}

// init hands the build info to prometheus/common's version variables, which
// the embedded Prometheus and Alertmanager report (build_info metrics, the
// Alertmanager API's /status that amtool compares with its own version).
func init() {
	in := Get()
	version.Version, version.Revision, version.Branch = in.Version, in.Revision, in.Branch
	version.BuildUser, version.BuildDate = in.BuildUser, in.BuildDate
}
