package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/notifier"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/strutil"

	"github.com/lookout-dev/lookout/internal/alerting"
	"github.com/lookout-dev/lookout/internal/config"
)

// buildAlerting creates the embedded Alertmanager and the notifier that
// forwards to external Alertmanagers listed under alerting.alertmanagers.
func (a *App) buildAlerting(cfg *config.Config, sdMetrics *discovery.SDMetrics) error {
	var err error
	a.alerting, err = alerting.New(alerting.Options{
		Dir:        filepath.Join(a.opts.DataDir, "alertmanager"),
		Logger:     a.logger.With("component", "alertmanager"),
		Registerer: a.reg,
		Retention:  time.Duration(cfg.Alertmanager.Retention),
	})
	if err != nil {
		return err
	}
	a.notifier = notifier.NewManager(&notifier.Options{QueueCapacity: 10000, Registerer: a.reg},
		model.UTF8Validation, a.logger.With("component", "notifier"))
	a.notifySD = discovery.NewManager(a.ctx, a.logger.With("component", "discovery-notify"), a.reg, sdMetrics, discovery.Name("notify"))
	if a.notifySD == nil {
		return fmt.Errorf("create alertmanager discovery manager")
	}
	return nil
}

// externalURL is where users reach Lookout; notifications link to it.
// Without alertmanager.external_url it is the main listener's address.
func (a *App) externalURL(cfg *config.Config) *url.URL {
	if cfg.Alertmanager.ExternalURL != "" {
		if u, err := url.Parse(cfg.Alertmanager.ExternalURL); err == nil {
			return u
		}
	}
	return &url.URL{Scheme: "http", Host: a.Addr()}
}

// applyAlerting points the notifier at the external Alertmanagers.
func (a *App) applyAlerting(pc *promconfig.Config) error {
	if err := a.notifier.ApplyConfig(pc); err != nil {
		return fmt.Errorf("apply alerting.alertmanagers: %w", err)
	}
	sd := map[string]discovery.Configs{}
	for k, v := range pc.AlertingConfig.AlertmanagerConfigs.ToMap() {
		sd[k] = v.ServiceDiscoveryConfigs
	}
	if err := a.notifySD.ApplyConfig(sd); err != nil {
		return fmt.Errorf("apply alertmanager discovery: %w", err)
	}
	return nil
}

// sendAlerts is the rules manager's NotifyFunc: every alert goes to the
// embedded Alertmanager and, when alerting.alertmanagers is configured, to
// the external ones too.
func (a *App) sendAlerts(ctx context.Context, expr string, alerts ...*rules.Alert) {
	if len(alerts) == 0 {
		return
	}
	cfg := a.config()
	pc := cfg.Prometheus
	generator := a.externalURL(cfg).String() + strutil.TableLinkForExpression(expr)
	if len(pc.AlertingConfig.AlertmanagerConfigs) > 0 {
		// The notifier adds external labels and relabels by itself.
		ext := make([]*notifier.Alert, 0, len(alerts))
		for _, r := range alerts {
			ext = append(ext, &notifier.Alert{StartsAt: r.FiredAt, EndsAt: endsAt(r), Labels: r.Labels,
				Annotations: r.Annotations, GeneratorURL: generator})
		}
		a.notifier.Send(ext...)
	}

	// The embedded routing gets the same labels the notifier would send:
	// external labels added where missing, then alert_relabel_configs.
	out := make([]*types.Alert, 0, len(alerts))
	now := time.Now()
	for _, r := range alerts {
		b := labels.NewBuilder(r.Labels)
		pc.GlobalConfig.ExternalLabels.Range(func(l labels.Label) {
			if r.Labels.Get(l.Name) == "" {
				b.Set(l.Name, l.Value)
			}
		})
		if !relabel.ProcessBuilder(b, pc.AlertingConfig.AlertRelabelConfigs...) {
			continue
		}
		out = append(out, &types.Alert{
			Alert: model.Alert{
				Labels:       toLabelSet(b.Labels()),
				Annotations:  toLabelSet(r.Annotations),
				StartsAt:     r.FiredAt,
				EndsAt:       endsAt(r),
				GeneratorURL: generator,
			},
			UpdatedAt: now,
		})
	}
	if len(out) > 0 {
		if err := a.alerting.Put(ctx, out...); err != nil {
			a.logger.Error("route alerts", "err", err)
		}
	}
}

// endsAt is when a rule alert stops being valid: its resolution, or the
// end of its validity window while it fires.
func endsAt(r *rules.Alert) time.Time {
	if !r.ResolvedAt.IsZero() {
		return r.ResolvedAt
	}
	return r.ValidUntil
}

func toLabelSet(ls labels.Labels) model.LabelSet {
	out := make(model.LabelSet, ls.Len())
	ls.Range(func(l labels.Label) { out[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
	return out
}

// alertmanagerRetriever lists the embedded Alertmanager and the external
// ones at /api/v1/alertmanagers.
type alertmanagerRetriever struct{ a *App }

func (r alertmanagerRetriever) Alertmanagers() []*url.URL {
	own := &url.URL{Scheme: "http", Host: r.a.Addr(), Path: alerting.Prefix + "/api/v2/alerts"}
	return append([]*url.URL{own}, r.a.notifier.Alertmanagers()...)
}

func (r alertmanagerRetriever) DroppedAlertmanagers() []*url.URL {
	return r.a.notifier.DroppedAlertmanagers()
}

// handleNotifications serves the notification history.
func (a *App) handleNotifications(w http.ResponseWriter, r *http.Request) {
	limit := 200
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeAPIError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("invalid limit %q: want a non-negative integer", s))
			return
		}
		limit = n
	}
	list := a.alerting.History().List(limit)
	if list == nil {
		list = []alerting.Notification{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"status": "success",
		"data":   map[string]any{"notifications": list},
	})
}

// writeAPIError answers in the Prometheus API's error shape.
func writeAPIError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": msg})
}

// applyAlertmanager swaps in cfg's routing unless it is what runs already.
func (a *App) applyAlertmanager(cfg *config.Config) error {
	next, ext := cfg.Alertmanager.Parsed, a.externalURL(cfg)
	if cur := a.alerting.Config(); cur != nil && cur.String() == next.String() && a.alerting.ExternalURL().String() == ext.String() {
		return nil
	}
	a.alerting.SetExternalURL(ext)
	if err := a.alerting.ApplyConfig(next); err != nil {
		return fmt.Errorf("alertmanager config: %w", err)
	}
	return nil
}
