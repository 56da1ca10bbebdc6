package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/config"
)

// amHTTPFake records the requests of Slack, PagerDuty and webhook
// integrations; failFirst answers 500 to the first requests of a path.
type amHTTPFake struct {
	srv       *httptest.Server
	mu        sync.Mutex
	bodies    map[string][]string // path prefix → bodies
	failFirst map[string]int
}

func newAMHTTPFake(t *testing.T) *amHTTPFake {
	f := &amHTTPFake{bodies: map[string][]string{}, failFirst: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		key := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.failFirst[key] > 0 {
			f.failFirst[key]--
			http.Error(w, "temporarily broken", http.StatusInternalServerError)
			return
		}
		f.bodies[key] = append(f.bodies[key], string(b))
		if key == "pagerduty" {
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *amHTTPFake) got(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies[key]...)
}

// smtpFake is a minimal SMTP server that keeps each message's DATA.
type smtpFake struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
}

func newSMTPFake(t *testing.T) *smtpFake {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &smtpFake{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return f
}

func (f *smtpFake) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(s string) { _, _ = io.WriteString(c, s+"\r\n") }
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-fake")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go ahead")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				msg.WriteString(l)
			}
			f.mu.Lock()
			f.msgs = append(f.msgs, msg.String())
			f.mu.Unlock()
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default: // MAIL, RCPT, RSET, NOOP
			say("250 ok")
		}
	}
}

func (f *smtpFake) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

// alertingFixture writes lookout.yml, the rules and the Alertmanager config
// pointing at the fakes into a directory and returns the lookout.yml path.
func alertingFixture(t *testing.T, httpAddr, smtpAddr string) string {
	dir := t.TempDir()
	am, err := os.ReadFile("testdata/alerting/alertmanager.yml")
	require.NoError(t, err)
	am = bytes.ReplaceAll(am, []byte("FAKE_HTTP"), []byte(httpAddr))
	am = bytes.ReplaceAll(am, []byte("FAKE_SMTP"), []byte(smtpAddr))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alertmanager.yml"), am, 0o600))
	rules, err := os.ReadFile("testdata/alerting/rules.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o600))
	lookout := `global:
  evaluation_interval: 1s
rule_files: [rules.yml]
server:
  listen: 127.0.0.1:0
  otlp_grpc_listen: "off"
  otlp_http_listen: "off"
metrics:
  self_scrape: false
alertmanager:
  config_file: alertmanager.yml
`
	p := filepath.Join(dir, "lookout.yml")
	require.NoError(t, os.WriteFile(p, []byte(lookout), 0o600))
	return p
}

// appendSeries writes one sample per 5s over the last minute for each
// series; value(i) gives the i-th sample.
func appendSeries(t *testing.T, ta *testApp, series map[string]func(i int) float64) {
	t.Helper()
	app := ta.Store().Appender(context.Background())
	now := time.Now()
	for spec, value := range series {
		lset := parseSeries(t, spec)
		for i := 0; i <= 12; i++ {
			ts := now.Add(time.Duration(i-12) * 5 * time.Second).UnixMilli()
			_, err := app.Append(0, lset, ts, value(i))
			require.NoError(t, err)
		}
	}
	require.NoError(t, app.Commit())
}

// parseSeries reads `name{a="b",...}`.
func parseSeries(t *testing.T, s string) labels.Labels {
	name, rest, _ := strings.Cut(s, "{")
	kv := []string{"__name__", name}
	rest = strings.TrimSuffix(rest, "}")
	for p := range strings.SplitSeq(rest, ",") {
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		require.True(t, ok, s)
		kv = append(kv, k, strings.Trim(v, `"`))
	}
	return labels.FromStrings(kv...)
}

func counter(perStep float64) func(int) float64 {
	return func(i int) float64 { return perStep * float64(i) }
}
func gauge(v float64) func(int) float64 { return func(int) float64 { return v } }

// TestAlertsReachReceivers runs the seeds' alerts and routing end to end:
// rules fire on synthetic series, and the loopback Slack, PagerDuty,
// webhook and SMTP fakes get what the route tree says, grouped, with the
// critical alert inhibiting its warning twin, a silence honoured, a
// failing webhook retried, runbooks in the messages and no secret in any
// log or API output.
func TestAlertsReachReceivers(t *testing.T) {
	httpFake := newAMHTTPFake(t)
	httpFake.failFirst["hooks"] = 1
	smtp := newSMTPFake(t)
	cfgFile := alertingFixture(t, httpFake.srv.Listener.Addr().String(), smtp.ln.Addr().String())
	cfg, err := config.LoadFile(cfgFile, nil)
	require.NoError(t, err)
	logs := &syncBuffer{}
	ta := startWith(t, Options{Config: cfg, ConfigFile: cfgFile, DataDir: t.TempDir(),
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	// Silence the session cache before its alert can fire.
	now := time.Now()
	sil, _ := json.Marshal(map[string]any{
		"matchers":  []map[string]any{{"name": "cache_type", "value": "session", "isRegex": false, "isEqual": true}},
		"startsAt":  now.Format(time.RFC3339),
		"endsAt":    now.Add(time.Hour).Format(time.RFC3339),
		"createdBy": "oncall", "comment": "known issue",
	})
	code, _, body := ta.do(t, http.MethodPost, "/alertmanager/api/v2/silences", bytes.NewReader(sil),
		map[string]string{"Content-Type": "application/json"})
	require.Equal(t, http.StatusOK, code, string(body))

	appendSeries(t, ta, map[string]func(int) float64{
		`http_requests_total{status="200"}`:        counter(70),
		`http_requests_total{status="500"}`:        counter(30), // 30% errors: warning and critical
		`db_connections_active{instance="db1"}`:    gauge(96),
		`db_connections_max{instance="db1"}`:       gauge(100),
		`cache_hits_total{cache_type="session"}`:   counter(5),
		`cache_misses_total{cache_type="session"}`: counter(5),
		`cache_hits_total{cache_type="query"}`:     counter(6),
		`cache_misses_total{cache_type="query"}`:   counter(4),
		`crm_up{instance="crm1"}`:                  gauge(0),
	})

	require.Eventually(t, func() bool {
		return len(httpFake.got("pagerduty")) >= 2 && len(httpFake.got("slack")) >= 1 &&
			len(httpFake.got("hooks")) >= 1 && len(smtp.got()) >= 1
	}, 60*time.Second, 100*time.Millisecond, "notifications did not arrive; history: %+v", ta.alerting.History().List(0))

	// PagerDuty: one event per alertname group, critical alerts only.
	var pdSummaries []string
	for _, b := range httpFake.got("pagerduty") {
		var ev struct {
			RoutingKey  string `json:"routing_key"`
			EventAction string `json:"event_action"`
			Payload     struct {
				Summary string `json:"summary"`
			} `json:"payload"`
		}
		require.NoError(t, json.Unmarshal([]byte(b), &ev), b)
		require.Equal(t, "PD-ROUTING-KEY-SECRET", ev.RoutingKey)
		require.Equal(t, "trigger", ev.EventAction)
		pdSummaries = append(pdSummaries, ev.Payload.Summary)
	}
	require.Len(t, pdSummaries, 2)
	joined := strings.Join(pdSummaries, "\n")
	require.Contains(t, joined, "HighErrorRate")
	require.Contains(t, joined, "DatabaseConnectionPoolExhausted")
	require.Contains(t, joined, "runbook: https://wiki.example.com/runbooks/high-error-rate")

	// Slack: the warnings, without the inhibited HighErrorRate warning and
	// the silenced session cache, with summaries and runbooks.
	slack := strings.Join(httpFake.got("slack"), "\n")
	require.Contains(t, slack, "LowCacheHitRate")
	require.Contains(t, slack, "Cache hit rate for query is 60%")
	require.Contains(t, slack, "Runbook: https://wiki.example.com/runbooks/cache-tuning")
	require.NotContains(t, slack, "Cache hit rate for session", "silenced")
	require.NotContains(t, slack, "HighErrorRate", "inhibited by the critical HighErrorRate")

	// Webhook: ServiceDown with its annotations, after one failed attempt.
	var wh struct {
		Receiver string `json:"receiver"`
		Alerts   []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"alerts"`
	}
	require.NoError(t, json.Unmarshal([]byte(httpFake.got("hooks")[0]), &wh))
	require.Equal(t, "team-notifications", wh.Receiver)
	require.Len(t, wh.Alerts, 1)
	require.Equal(t, "ServiceDown", wh.Alerts[0].Labels["alertname"])
	require.Equal(t, "https://wiki.example.com/runbooks/service-down", wh.Alerts[0].Annotations["runbook_url"])
	require.Eventually(t, func() bool {
		return counterValue(t, ta.App, "lookout_notifications_failed_total", map[string]string{"integration": "webhook"}) == 1
	}, 10*time.Second, 50*time.Millisecond)

	// Email: the same alert, with its runbook.
	qp, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(smtp.got()[0])))
	require.NoError(t, err)
	mail := string(qp)
	require.Contains(t, mail, `href="`+ta.base+`/#/alerts?receiver=team-notifications"`, "links point at this server")
	require.Contains(t, mail, "ServiceDown")
	require.Contains(t, mail, "runbooks/service-down")

	// The notification history says who got what, and the retry.
	code, _, body = ta.do(t, http.MethodGet, "/api/v1/notifications", nil, nil)
	require.Equal(t, http.StatusOK, code)
	var hist struct {
		Data struct {
			Notifications []struct {
				Receiver, Integration, Status string
				Attempts                      int
			} `json:"notifications"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &hist))
	seen := map[string]bool{}
	for _, n := range hist.Data.Notifications {
		seen[n.Receiver+"/"+n.Integration+"/"+n.Status] = true
		if n.Integration == "webhook" {
			require.Equal(t, 2, n.Attempts)
		}
	}
	for _, want := range []string{"pagerduty/pagerduty/success", "slack/slack/success", "team-notifications/webhook/success", "team-notifications/email/success"} {
		require.True(t, seen[want], "history lacks %s: %s", want, body)
	}

	// Prometheus' API shows the firing alerts; Alertmanager's shows the
	// silenced and inhibited ones as suppressed.
	code, _, body = ta.do(t, http.MethodGet, "/api/v1/alerts", nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"state":"firing"`)
	code, _, body = ta.do(t, http.MethodGet, `/api/v2/alerts?filter=cache_type%3D%22session%22`, nil, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Contains(t, string(body), `"state":"suppressed"`)
	require.Contains(t, string(body), `"silencedBy":["`)

	// No secret anywhere a user or an operator can read.
	_, _, amStatus := ta.do(t, http.MethodGet, "/alertmanager/api/v2/status", nil, nil)
	_, _, promCfg := ta.do(t, http.MethodGet, "/api/v1/status/config", nil, nil)
	_, _, hist2 := ta.do(t, http.MethodGet, "/api/v1/notifications", nil, nil)
	for name, out := range map[string]string{"logs": logs.String(), "AM status": string(amStatus),
		"Prometheus config": string(promCfg), "history": string(hist2)} {
		for _, secret := range []string{"SLACK-WEBHOOK-SECRET", "PD-ROUTING-KEY-SECRET"} {
			require.NotContains(t, out, secret, "%s leaks %s", name, secret)
		}
	}
	require.Contains(t, string(amStatus), "<secret>")
}

// TestAlertmanagerReloadKeepsOldConfigOnError breaks the Alertmanager
// config and reloads: the error names the problem and routing continues
// with the old config.
func TestAlertmanagerReloadKeepsOldConfigOnError(t *testing.T) {
	httpFake := newAMHTTPFake(t)
	smtp := newSMTPFake(t)
	cfgFile := alertingFixture(t, httpFake.srv.Listener.Addr().String(), smtp.ln.Addr().String())
	cfg, err := config.LoadFile(cfgFile, nil)
	require.NoError(t, err)
	ta := startWith(t, Options{Config: cfg, ConfigFile: cfgFile, DataDir: t.TempDir()})

	amFile := filepath.Join(filepath.Dir(cfgFile), "alertmanager.yml")
	good, err := os.ReadFile(amFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(amFile, bytes.Replace(good, []byte("receiver: 'slack'"), []byte("receiver: 'nobody'"), 1), 0o600))
	code, _, body := ta.do(t, http.MethodPost, "/-/reload", nil, nil)
	require.Equal(t, http.StatusInternalServerError, code)
	require.Contains(t, string(body), `undefined receiver "nobody" used in route`)
	require.Contains(t, string(body), "alertmanager.yml")

	code, _, body = ta.do(t, http.MethodGet, "/api/v2/receivers", nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), `"slack"`, "the old routing still runs")

	// A valid change applies.
	require.NoError(t, os.WriteFile(amFile, bytes.Replace(
		bytes.Replace(good, []byte("name: 'slack'"), []byte("name: 'chat'"), 1),
		[]byte("receiver: 'slack'"), []byte("receiver: 'chat'"), 1), 0o600))
	code, _, body = ta.do(t, http.MethodPost, "/-/reload", nil, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	_, _, body = ta.do(t, http.MethodGet, "/api/v2/receivers", nil, nil)
	require.Contains(t, string(body), `"chat"`)
	require.NotContains(t, string(body), `"slack"`)
}

// TestAlertStateSurvivesRestart: a pending alert's time already spent
// pending survives a restart (restored from ALERTS_FOR_STATE), so `for`
// does not start over. As in Prometheus, the outage itself does not count:
// activeAt moves forward by the downtime.
func TestAlertStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	rules := `groups:
  - name: restore
    interval: 1s
    rules:
      - alert: SlowBurn
        expr: vector(1)
        for: 1h
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o600))
	cfgText := "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nserver:\n  listen: 127.0.0.1:0\n  otlp_grpc_listen: \"off\"\n  otlp_http_listen: \"off\"\nmetrics:\n  self_scrape: false\n"
	cfgFile := filepath.Join(dir, "lookout.yml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(cfgText), 0o600))
	data := filepath.Join(dir, "data")

	activeAt := func(ta *testApp) time.Time {
		_, _, body := ta.do(t, http.MethodGet, "/api/v1/alerts", nil, nil)
		var r struct {
			Data struct {
				Alerts []struct {
					State    string    `json:"state"`
					ActiveAt time.Time `json:"activeAt"`
				} `json:"alerts"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(body, &r))
		if len(r.Data.Alerts) != 1 || r.Data.Alerts[0].State != "pending" {
			return time.Time{}
		}
		return r.Data.Alerts[0].ActiveAt
	}
	start := func() *testApp {
		cfg, err := config.LoadFile(cfgFile, nil)
		require.NoError(t, err)
		return startWith(t, Options{Config: cfg, ConfigFile: cfgFile, DataDir: data})
	}

	first := start()
	var before time.Time
	require.Eventually(t, func() bool { before = activeAt(first); return !before.IsZero() }, 30*time.Second, 50*time.Millisecond)
	// Stay pending for a while, each evaluation writing ALERTS_FOR_STATE.
	// Restoring shifts activeAt by the downtime (shutdown to restore, a few
	// seconds on a loaded machine), so the pending time must exceed it.
	time.Sleep(12 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, first.Shutdown(ctx))

	restartedAt := time.Now()
	second := start()
	// The rules manager restores state after its second evaluation, as
	// Prometheus does.
	var after time.Time
	require.Eventually(t, func() bool {
		after = activeAt(second)
		return !after.IsZero() && after.Before(restartedAt)
	}, 60*time.Second, 50*time.Millisecond, "activeAt was not restored to before the restart")
	require.True(t, after.After(before), "the downtime is not counted as pending time")
	require.True(t, after.Before(restartedAt),
		"activeAt predates the restart, so pending time before it was kept (before %s, after %s, restart %s)", before, after, restartedAt)
}

// TestRuleFileChangeReloads edits a rule file on disk: the new rule is
// picked up without SIGHUP, and a broken edit keeps the old rules.
func TestRuleFileChangeReloads(t *testing.T) {
	httpFake := newAMHTTPFake(t)
	smtp := newSMTPFake(t)
	cfgFile := alertingFixture(t, httpFake.srv.Listener.Addr().String(), smtp.ln.Addr().String())
	raw, err := os.ReadFile(cfgFile)
	require.NoError(t, err)
	raw = bytes.Replace(raw, []byte("  otlp_http_listen: \"off\"\n"), []byte("  otlp_http_listen: \"off\"\n  config_watch_interval: 100ms\n"), 1)
	require.NoError(t, os.WriteFile(cfgFile, raw, 0o600))
	cfg, err := config.LoadFile(cfgFile, nil)
	require.NoError(t, err)
	ta := startWith(t, Options{Config: cfg, ConfigFile: cfgFile, DataDir: t.TempDir()})

	rulesFile := filepath.Join(filepath.Dir(cfgFile), "rules.yml")
	orig, err := os.ReadFile(rulesFile)
	require.NoError(t, err)
	added := string(orig) + "      - alert: AddedOnDisk\n        expr: vector(1)\n"
	require.NoError(t, os.WriteFile(rulesFile, []byte(added), 0o600))
	rules := func() string { _, _, b := ta.do(t, http.MethodGet, "/api/v1/rules", nil, nil); return string(b) }
	require.Eventually(t, func() bool { return strings.Contains(rules(), "AddedOnDisk") }, 20*time.Second, 50*time.Millisecond)

	require.NoError(t, os.WriteFile(rulesFile, []byte(added+"      - alert: Broken\n        expr: sum(\n"), 0o600))
	require.Eventually(t, func() bool {
		return counterValue(t, ta.App, "lookout_config_last_reload_successful", nil) == 0
	}, 20*time.Second, 50*time.Millisecond)
	require.Contains(t, rules(), "AddedOnDisk", "the previous rules keep running")
	require.NotContains(t, rules(), "Broken")
}

// TestEmbeddedRoutingAppliesExternalLabelsAndRelabeling: alerts reach the
// embedded Alertmanager with the labels Prometheus' notifier would send to
// an external one: external labels added, alert_relabel_configs applied.
func TestEmbeddedRoutingAppliesExternalLabelsAndRelabeling(t *testing.T) {
	dir := t.TempDir()
	rules := `groups:
  - name: relabel
    interval: 1s
    rules:
      - alert: Dropped
        expr: vector(1)
        labels: {team: noise}
      - alert: Kept
        expr: vector(1)
        labels: {team: crm}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o600))
	cfgText := `global:
  evaluation_interval: 1s
  external_labels: {cluster: eu1, team: overridden-by-rule}
rule_files: [rules.yml]
alerting:
  alert_relabel_configs:
    - source_labels: [team]
      regex: noise
      action: drop
server: {listen: 127.0.0.1:0, otlp_grpc_listen: "off", otlp_http_listen: "off"}
metrics: {self_scrape: false}
`
	cfgFile := filepath.Join(dir, "lookout.yml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(cfgText), 0o600))
	cfg, err := config.LoadFile(cfgFile, nil)
	require.NoError(t, err)
	ta := startWith(t, Options{Config: cfg, ConfigFile: cfgFile, DataDir: t.TempDir()})

	type amAlert struct {
		Labels map[string]string `json:"labels"`
	}
	var got []amAlert
	require.Eventually(t, func() bool {
		_, _, body := ta.do(t, http.MethodGet, "/api/v2/alerts", nil, nil)
		got = nil
		return json.Unmarshal(body, &got) == nil && len(got) > 0
	}, 30*time.Second, 50*time.Millisecond)
	// A group evaluates its rules in order and hands each rule's alerts
	// over before the next: once Kept has arrived, Dropped was sent.
	_, _, rulesBody := ta.do(t, http.MethodGet, "/api/v1/alerts", nil, nil)
	require.Contains(t, string(rulesBody), `"alertname":"Dropped"`, "the rule itself fires")
	require.Len(t, got, 1, "the team=noise alert is dropped by alert_relabel_configs: %+v", got)
	require.Equal(t, map[string]string{"alertname": "Kept", "team": "crm", "cluster": "eu1"}, got[0].Labels,
		"external labels are added, but never override the rule's own")
}
