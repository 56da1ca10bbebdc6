package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// routing mirrors the seeds' alertmanager.yml: critical pages, warnings go
// to chat, the rest to the team; a critical alert inhibits the warning of
// the same alertname.
const routing = `
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['severity=~"critical|warning"']
      receiver: chat
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
receivers:
  - name: team
  - name: pager
  - name: chat
`

// delivery is one call of a fake integration.
type delivery struct {
	at     time.Time
	alerts []string // alertname/severity/status, sorted
}

// fakeReceivers records what each receiver is sent; failFirst makes a
// receiver's first attempts fail with a retryable error.
type fakeReceivers struct {
	mu        sync.Mutex
	got       map[string][]delivery
	failFirst map[string]int
}

func newFakeReceivers() *fakeReceivers {
	return &fakeReceivers{got: map[string][]delivery{}, failFirst: map[string]int{}}
}

func (f *fakeReceivers) build(rcv amconfig.Receiver, _ *template.Template, _ *slog.Logger) ([]notify.Integration, error) {
	n := &fakeNotifier{f: f, receiver: rcv.Name}
	return []notify.Integration{notify.NewIntegration(n, sendResolved(true), "webhook", 0, rcv.Name)}, nil
}

func (f *fakeReceivers) deliveries(receiver string) []delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got[receiver])
}

type sendResolved bool

func (s sendResolved) SendResolved() bool { return bool(s) }

type fakeNotifier struct {
	f        *fakeReceivers
	receiver string
}

func (n *fakeNotifier) Notify(_ context.Context, alerts ...*types.Alert) (bool, error) {
	n.f.mu.Lock()
	defer n.f.mu.Unlock()
	if n.f.failFirst[n.receiver] > 0 {
		n.f.failFirst[n.receiver]--
		return true, errors.New(`Post "https://hooks.example.com/services/T000/B000/XXXXSECRET": 503 Service Unavailable`)
	}
	d := delivery{at: time.Now()}
	for _, a := range alerts {
		d.alerts = append(d.alerts, fmt.Sprintf("%s/%s/%s", a.Labels["alertname"], a.Labels["severity"], a.Status()))
	}
	sort.Strings(d.alerts)
	n.f.got[n.receiver] = append(n.f.got[n.receiver], d)
	return false, nil
}

type testManager struct {
	*Manager
	fake *fakeReceivers
	reg  *prometheus.Registry
	dir  string
}

// newTestManager must run inside a synctest bubble.
func newTestManager(t *testing.T, dir string, fake *fakeReceivers) *testManager {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(Options{Dir: dir, Registerer: reg, BuildIntegrations: fake.build})
	require.NoError(t, err)
	conf, err := amconfig.Load(routing)
	require.NoError(t, err)
	require.NoError(t, m.ApplyConfig(conf))
	return &testManager{Manager: m, fake: fake, reg: reg, dir: dir}
}

func alert(name, severity, instance string) *types.Alert {
	now := time.Now()
	return &types.Alert{
		Alert: model.Alert{
			Labels:   model.LabelSet{"alertname": model.LabelValue(name), "severity": model.LabelValue(severity), "instance": model.LabelValue(instance)},
			StartsAt: now,
			EndsAt:   now.Add(time.Hour),
		},
		UpdatedAt: now,
	}
}

func (m *testManager) put(t *testing.T, alerts ...*types.Alert) {
	t.Helper()
	require.NoError(t, m.Put(context.Background(), alerts...))
}

// api calls the Alertmanager API v2 in-process.
func (m *testManager) api(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, Prefix+"/api/v2"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func TestGroupWaitGroupIntervalAndRepeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFakeReceivers()
		m := newTestManager(t, t.TempDir(), fake)
		defer m.Stop()
		start := time.Now()

		m.put(t, alert("HighErrorRate", "critical", "a"), alert("HighErrorRate", "critical", "b"))
		time.Sleep(29 * time.Second)
		synctest.Wait()
		require.Empty(t, fake.deliveries("pager"), "nothing is sent before group_wait")

		time.Sleep(2 * time.Second)
		synctest.Wait()
		got := fake.deliveries("pager")
		require.Len(t, got, 1, "one notification for the group")
		require.Equal(t, []string{"HighErrorRate/critical/firing", "HighErrorRate/critical/firing"}, got[0].alerts)
		require.Equal(t, 30*time.Second, got[0].at.Sub(start))
		require.Len(t, fake.deliveries("chat"), 1, "continue: true lets the critical alert reach the second route too")

		// A new alert in the group waits for group_interval, not group_wait.
		time.Sleep(time.Minute)
		m.put(t, alert("HighErrorRate", "critical", "c"))
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		require.Len(t, fake.deliveries("pager"), 1)
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		got = fake.deliveries("pager")
		require.Len(t, got, 2)
		require.Len(t, got[1].alerts, 3)
		require.Equal(t, 30*time.Second+5*time.Minute, got[1].at.Sub(start))

		// Unchanged, the group is sent again after repeat_interval.
		keep := func() {
			for _, i := range []string{"a", "b", "c"} {
				a := alert("HighErrorRate", "critical", i)
				a.StartsAt = start
				m.put(t, a)
			}
		}
		for time.Since(start) < 4*time.Hour+10*time.Minute {
			keep()
			time.Sleep(time.Minute)
		}
		synctest.Wait()
		got = fake.deliveries("pager")
		require.Len(t, got, 3, "one repeat after 4h")
		// Flushes happen every group_interval; the repeat is due once more than
		// repeat_interval has passed, so it goes at the tick after 4h exactly.
		require.Equal(t, 30*time.Second+10*time.Minute+4*time.Hour, got[2].at.Sub(start))
		require.Empty(t, fake.deliveries("team"))
	})
}

func TestInhibitionCriticalSuppressesWarning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFakeReceivers()
		m := newTestManager(t, t.TempDir(), fake)
		defer m.Stop()

		m.put(t, alert("HighLatency", "critical", "a"), alert("HighLatency", "warning", "a"),
			alert("LowCacheHitRate", "warning", "a"))
		time.Sleep(31 * time.Second)
		synctest.Wait()

		require.Len(t, fake.deliveries("pager"), 1)
		var chat []string
		for _, d := range fake.deliveries("chat") {
			chat = append(chat, d.alerts...)
		}
		sort.Strings(chat)
		require.Equal(t, []string{"HighLatency/critical/firing", "LowCacheHitRate/warning/firing"}, chat,
			"the warning HighLatency is inhibited by its critical twin; the other warning is not")

		code, body := m.api(t, http.MethodGet, "/alerts?filter=alertname%3D%22HighLatency%22&filter=severity%3D%22warning%22", nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var alerts []struct {
			Status struct {
				State       string   `json:"state"`
				InhibitedBy []string `json:"inhibitedBy"`
			} `json:"status"`
		}
		require.NoError(t, json.Unmarshal(body, &alerts))
		require.Len(t, alerts, 1)
		require.Equal(t, "suppressed", alerts[0].Status.State)
		require.NotEmpty(t, alerts[0].Status.InhibitedBy)
	})
}

func TestSilenceMutesAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		fake := newFakeReceivers()
		m := newTestManager(t, dir, fake)
		now := time.Now()
		code, body := m.api(t, http.MethodPost, "/silences", map[string]any{
			"matchers":  []map[string]any{{"name": "alertname", "value": "SlowAPI", "isRegex": false, "isEqual": true}},
			"startsAt":  now.Format(time.RFC3339),
			"endsAt":    now.Add(2 * time.Hour).Format(time.RFC3339),
			"createdBy": "oncall",
			"comment":   "deploying",
		})
		require.Equal(t, http.StatusOK, code, string(body))

		m.put(t, alert("SlowAPI", "critical", "a"), alert("ServiceDown", "critical", "a"))
		time.Sleep(31 * time.Second)
		synctest.Wait()
		var sent []string
		for _, d := range fake.deliveries("pager") {
			sent = append(sent, d.alerts...)
		}
		require.Equal(t, []string{"ServiceDown/critical/firing"}, sent, "the silenced alert is not sent")
		m.Stop()

		// After a restart the silence is still there, and ServiceDown, which
		// was already sent, is not sent again before repeat_interval.
		fake2 := newFakeReceivers()
		m2 := newTestManager(t, dir, fake2)
		defer m2.Stop()
		code, body = m2.api(t, http.MethodGet, "/silences", nil)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, string(body), `"comment":"deploying"`)
		a := alert("ServiceDown", "critical", "a")
		m2.put(t, a)
		time.Sleep(time.Hour)
		synctest.Wait()
		require.Empty(t, fake2.deliveries("pager"), "the notification log prevents a second page after restart")
	})
}

func TestFailingReceiverIsRetriedAndRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFakeReceivers()
		fake.failFirst["pager"] = 2
		m := newTestManager(t, t.TempDir(), fake)
		defer m.Stop()

		m.put(t, alert("DatabaseConnectionPoolExhausted", "critical", "db1"), alert("QueueBacklog", "warning", "q"))
		time.Sleep(31 * time.Second)
		synctest.Wait()
		require.Len(t, fake.deliveries("chat"), 2, "the failing pager does not hold up chat")

		time.Sleep(time.Minute)
		synctest.Wait()
		require.Len(t, fake.deliveries("pager"), 1, "delivered after retries")

		var pager *Notification
		for _, n := range m.History().List(0) {
			if n.Receiver == "pager" {
				pager = &n
				break
			}
		}
		require.NotNil(t, pager)
		require.Equal(t, "success", pager.Status)
		require.Equal(t, 3, pager.Attempts)
		require.Equal(t, 1, pager.Firing)
		require.Equal(t, model.LabelSet{"alertname": "DatabaseConnectionPoolExhausted"}, pager.GroupLabels)
		require.Equal(t, 2.0, testutil.ToFloat64(m.metrics.failed.WithLabelValues("webhook", "pager")))
		require.Equal(t, 3.0, testutil.ToFloat64(m.metrics.total.WithLabelValues("webhook", "pager")))
	})
}

func TestHistoryRedactsURLs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFakeReceivers()
		fake.failFirst["pager"] = 1000
		m := newTestManager(t, t.TempDir(), fake)
		defer m.Stop()
		m.put(t, alert("ServiceDown", "critical", "a"))
		time.Sleep(40 * time.Second)
		synctest.Wait()
		list := m.History().List(0)
		var found bool
		for _, n := range list {
			if n.Receiver == "pager" {
				found = true
				require.Equal(t, "failed", n.Status)
				require.NotContains(t, n.Error, "XXXXSECRET")
				require.Contains(t, n.Error, "https://hooks.example.com/<redacted>")
			}
		}
		require.True(t, found)
	})
}

func TestAPIRejectsBadInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newTestManager(t, t.TempDir(), newFakeReceivers())
		defer m.Stop()
		now := time.Now()
		for _, tc := range []struct {
			name, path string
			body       any
			code       int // 400 also where Alertmanager answers 422 (a body that breaks its OpenAPI schema)
			want       string
		}{
			{"silence ends before it starts", "/silences", map[string]any{
				"matchers": []map[string]any{{"name": "a", "value": "b", "isRegex": false}},
				"startsAt": now.Format(time.RFC3339), "endsAt": now.Add(-time.Hour).Format(time.RFC3339),
				"createdBy": "x", "comment": "y",
			}, 400, "start time must be before end time"},
			{"silence without matchers", "/silences", map[string]any{
				"matchers": []map[string]any{}, "startsAt": now.Format(time.RFC3339),
				"endsAt": now.Add(time.Hour).Format(time.RFC3339), "createdBy": "x", "comment": "y",
			}, 400, "matchers in body should have at least 1 items"},
			{"silence matcher of the wrong type", "/silences", map[string]any{
				"matchers": []map[string]any{{"name": "a", "value": 1, "isRegex": false}}, "startsAt": now.Format(time.RFC3339),
				"endsAt": now.Add(time.Hour).Format(time.RFC3339), "createdBy": "x", "comment": "y",
			}, 400, "value"},
			{"alert without labels", "/alerts", []map[string]any{{"labels": map[string]string{}}}, 400, "at least one label pair required"},
			{"not JSON", "/alerts", "{", 400, ""},
		} {
			code, body := m.api(t, http.MethodPost, tc.path, tc.body)
			require.Equal(t, tc.code, code, "%s: %s", tc.name, body)
			require.Contains(t, strings.ToLower(string(body)), strings.ToLower(tc.want), tc.name)
		}
	})
}
