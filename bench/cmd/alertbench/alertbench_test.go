package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseExposition(t *testing.T) {
	text := `# HELP prometheus_rule_group_last_duration_seconds The duration of the last rule group evaluation.
# TYPE prometheus_rule_group_last_duration_seconds gauge
prometheus_rule_group_last_duration_seconds{rule_group="/tmp/x/bench-rules.yml;bench-00"} 0.012
prometheus_rule_group_last_duration_seconds{rule_group="/tmp/x/e2e.yml;e2e"} 0.5
prometheus_rule_group_rules{rule_group="a;bench-01",odd="q\"uo,te}"} 100
go_goroutines 42
bad line
`
	ss, err := parseExposition(strings.NewReader(text), "prometheus_rule_group_last_duration_seconds", "prometheus_rule_group_rules")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 {
		t.Fatalf("got %d samples, want 3: %+v", len(ss), ss)
	}
	if ss[0].Labels["rule_group"] != "/tmp/x/bench-rules.yml;bench-00" || ss[0].Value != 0.012 {
		t.Errorf("first sample %+v", ss[0])
	}
	if ss[2].Labels["odd"] != `q"uo,te}` || ss[2].Labels["rule_group"] != "a;bench-01" || ss[2].Value != 100 {
		t.Errorf("escaped label: %+v", ss[2])
	}
}

func TestRulesLayout(t *testing.T) {
	l := layout{Rules: 1000, Metrics: 100, SeriesPerMetric: 1000, Groups: 10}
	if err := l.validate(); err != nil {
		t.Fatal(err)
	}
	rs := l.rules()
	kinds := map[string]int{}
	groups := map[int]int{}
	firing := 0
	for _, r := range rs {
		kinds[r.Kind]++
		groups[r.Group]++
		firing += r.firing
	}
	if kinds[selective] != 600 || kinds[broad] != 300 || kinds[aggregate] != 100 {
		t.Errorf("kinds %v", kinds)
	}
	for g := range 10 {
		if groups[g] != 100 {
			t.Errorf("group %d has %d rules", g, groups[g])
		}
	}
	// Each metric holds every value once: a broad rule fires exactly broadFiring alerts.
	for _, r := range rs {
		if r.Kind == broad && r.firing != broadFiring {
			t.Fatalf("%s fires %d", r.Expr, r.firing)
		}
	}
	if firing == 0 || firing > 5000 {
		t.Errorf("firing %d", firing)
	}
	seen := map[float64]bool{}
	for i := range l.SeriesPerMetric {
		seen[l.value(7, i)] = true
	}
	if len(seen) != l.SeriesPerMetric {
		t.Errorf("metric 7 has %d distinct values", len(seen))
	}
}

func TestYAMLQuote(t *testing.T) {
	if got := yamlQuote(`a{b="c"} > 1 & <x>`); got != `"a{b=\"c\"} > 1 & <x>"` {
		t.Errorf("yamlQuote = %s", got)
	}
}

func TestSinkCountsFirstArrival(t *testing.T) {
	sk, err := startSink("127.0.0.1:0", routeKey)
	if err != nil {
		t.Fatal(err)
	}
	defer sk.close()
	post := func(alertnames ...string) {
		msg := map[string]any{"version": "4", "status": "firing"}
		var alerts []map[string]any
		for _, a := range alertnames {
			alerts = append(alerts, map[string]any{"status": "firing", "labels": map[string]string{"alertname": a, "instance": "h1"}})
		}
		msg["alerts"] = alerts
		b, _ := json.Marshal(msg)
		resp, err := http.Post(sk.URL(), "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	post(routeAlert+"00", "Other")
	post(routeAlert+"00", routeAlert+"01")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sk.waitFor(ctx, func() bool { return sk.stats().Distinct == 2 }); err != nil {
		t.Fatal(err)
	}
	st := sk.stats()
	if st.Notifications != 2 || st.Alerts != 3 || st.Requests != 2 {
		t.Errorf("stats %+v", st)
	}
	if _, ok := sk.seen(routeAlert + "01/h1"); !ok {
		t.Error("second alert not recorded")
	}
}

func TestSinkRefusesNonLoopback(t *testing.T) {
	if _, err := startSink("0.0.0.0:0", routeKey); err == nil {
		t.Fatal("sink listened on a non-loopback address")
	}
}

func TestNearestRank(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got := nearestRank(v, 0.5); got != 5 {
		t.Errorf("p50 = %v", got)
	}
	if got := nearestRank(v, 0.99); got != 10 {
		t.Errorf("p99 = %v", got)
	}
	if got := median([]float64{1, 2, 3, 4}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}
