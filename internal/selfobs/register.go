package selfobs

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c on reg and returns it, or, when an equal collector
// is already registered (a component built again on the same registry, as
// on a config reload, or several receivers sharing metric families),
// returns the registered one so that counts continue. If another kind of
// collector holds the name, c is returned unregistered: it counts, unseen,
// rather than crash the server. A nil reg registers nothing.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
