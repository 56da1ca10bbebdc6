package amtool

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/routes")

// routeCase is an alert's labels, given as amtool arguments, and the
// receivers it must reach.
type routeCase struct {
	name   string
	file   string
	labels []string
	want   []string
	// lookoutOnly marks cases amtool 0.25 decides differently because it
	// predates a feature; the comparison test skips them.
	lookoutOnly bool
}

var routeCases = []routeCase{
	// The seeds' tree: severity picks the receiver, anything else goes to the
	// default; `continue: true` on the critical route finds no later match.
	{name: "seeds critical", file: "seeds/alertmanager.yml", labels: []string{"severity=critical"}, want: []string{"pagerduty"}},
	{name: "seeds warning", file: "seeds/alertmanager.yml", labels: []string{"severity=warning", "alertname=SlowAPI"}, want: []string{"slack"}},
	{name: "seeds info", file: "seeds/alertmanager.yml", labels: []string{"severity=info"}, want: []string{"team-notifications"}},
	{name: "seeds no labels", file: "seeds/alertmanager.yml", want: []string{"team-notifications"}},
	{name: "seeds quoted value", file: "seeds/alertmanager.yml", labels: []string{`severity="warning"`}, want: []string{"slack"}},
	{name: "seeds last value wins", file: "seeds/alertmanager.yml", labels: []string{"severity=warning", "severity=critical"}, want: []string{"pagerduty"}},

	// Nested routes: continue at the top level (audit), inside a subtree
	// (db-pager) and on a route whose later siblings do not match (web-prod).
	{name: "db", file: "routes/nested.yml", labels: []string{"team=db"}, want: []string{"audit", "db-team"}},
	{name: "db critical", file: "routes/nested.yml", labels: []string{"team=db", "severity=critical"}, want: []string{"audit", "db-pager", "db-chat"}},
	{name: "db warning", file: "routes/nested.yml", labels: []string{"team=db", "severity=warning"}, want: []string{"audit", "db-chat"}},
	{name: "db warning staging", file: "routes/nested.yml", labels: []string{"team=db", "severity=warning", "env=staging"}, want: []string{"audit", "db-team"}},
	{name: "db inherited receiver", file: "routes/nested.yml", labels: []string{"team=db", "service=replication"}, want: []string{"audit", "db-team"}},
	{name: "db critical replication", file: "routes/nested.yml", labels: []string{"team=db", "severity=critical", "service=replication"}, want: []string{"audit", "db-pager", "db-chat"}},
	{name: "web prod critical", file: "routes/nested.yml", labels: []string{"service=api", "env=production", "severity=critical"}, want: []string{"web-prod", "web-pager"}},
	{name: "web staging critical", file: "routes/nested.yml", labels: []string{"service=frontend", "env=staging", "severity=critical"}, want: []string{"web-staging"}},
	{name: "web no child", file: "routes/nested.yml", labels: []string{"service=api"}, want: []string{"web-team"}},
	{name: "anchored regexp", file: "routes/nested.yml", labels: []string{"service=api-gateway"}, want: []string{"default"}},
	{name: "critical continue", file: "routes/nested.yml", labels: []string{"severity=critical"}, want: []string{"on-call", "incident-channel"}},
	{name: "empty value", file: "routes/nested.yml", labels: []string{"team="}, want: []string{"default"}},
	{name: "default", file: "routes/nested.yml", labels: []string{"foo=bar"}, want: []string{"default"}},
	// The classic parser's reading of an unquoted value with a comma.
	{name: "comma in value", file: "routes/nested.yml", labels: []string{"severity=critical,team=db"}, want: []string{"default"}},
	// Amtool 0.25 has only the classic parser, which rejects a dot in a
	// label name; the UTF-8 parser (Alertmanager 0.27+) accepts it.
	{name: "utf-8 label name", file: "routes/nested.yml", labels: []string{"service.name=api", "team=db"}, want: []string{"audit", "db-team"}, lookoutOnly: true},
}

func TestReceivers(t *testing.T) {
	for _, tc := range routeCases {
		t.Run(tc.name, func(t *testing.T) {
			root, err := LoadRoute(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			ls, err := ParseLabels(tc.labels, nil)
			require.NoError(t, err)
			require.Equal(t, tc.want, Receivers(root, ls))
		})
	}
}

func TestLoadRouteInvalid(t *testing.T) {
	_, err := LoadRoute("testdata/check/undefined-receiver.bad.yml")
	require.ErrorContains(t, err, `undefined receiver "pagerduty"`)
	_, err = LoadRoute("testdata/does-not-exist.yml")
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestParseLabels(t *testing.T) {
	f := func(args []string, want model.LabelSet, wantErr string) {
		t.Helper()
		got, err := ParseLabels(args, nil)
		if wantErr != "" {
			require.ErrorContains(t, err, wantErr)
			return
		}
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	f(nil, model.LabelSet{}, "")
	f([]string{"a=b", `c="d e"`, "f="}, model.LabelSet{"a": "b", "c": "d e", "f": ""}, "")
	f([]string{"a=b c"}, model.LabelSet{"a": "b c"}, "")
	f([]string{`"service.name"="api"`}, model.LabelSet{"service.name": "api"}, "")
	f([]string{"severity!=info"}, nil, ErrNotKeyValue.Error())
	f([]string{"severity=~crit.*"}, nil, ErrNotKeyValue.Error())
	f([]string{"severity"}, nil, `parse label "severity": bad matcher format`)
	f([]string{"{severity=critical}"}, nil, "unexpected open or close brace")
}

func TestVerifyReceivers(t *testing.T) {
	require.NoError(t, VerifyReceivers([]string{"a", "b"}, ""))
	require.NoError(t, VerifyReceivers([]string{"a", "b"}, "a,b"))
	require.ErrorIs(t, VerifyReceivers([]string{"a", "b"}, "b,a"), ErrReceiversMismatch)
	require.ErrorIs(t, VerifyReceivers([]string{"a", "b"}, "a"), ErrReceiversMismatch)
	require.ErrorIs(t, VerifyReceivers([]string{"a"}, "a,a"), ErrReceiversMismatch)
}

// treeCase is a printed tree and the golden file that holds it; the
// comparison test checks the same trees against amtool.
type treeCase struct {
	golden string
	file   string
	// labels selects config routes test --tree; nil means routes show.
	labels []string
}

var treeCases = []treeCase{
	{golden: "seeds.show.txt", file: "seeds/alertmanager.yml"},
	{golden: "nested.show.txt", file: "routes/nested.yml"},
	{golden: "nested.db-critical.tree.txt", file: "routes/nested.yml", labels: []string{"team=db", "severity=critical"}},
	{golden: "nested.web-prod.tree.txt", file: "routes/nested.yml", labels: []string{"service=api", "env=production", "severity=critical"}},
	{golden: "nested.default.tree.txt", file: "routes/nested.yml", labels: []string{}},
}

func renderTreeCase(t testing.TB, tc treeCase) string {
	t.Helper()
	root, err := LoadRoute(filepath.Join("testdata", tc.file))
	require.NoError(t, err)
	var out bytes.Buffer
	if tc.labels == nil {
		require.NoError(t, WriteRoutes(&out, root))
		return out.String()
	}
	ls, err := ParseLabels(tc.labels, nil)
	require.NoError(t, err)
	require.NoError(t, WriteMatchingRoutes(&out, root, ls))
	return out.String()
}

func TestTrees(t *testing.T) {
	for _, tc := range treeCases {
		t.Run(tc.golden, func(t *testing.T) {
			got := renderTreeCase(t, tc)
			path := filepath.Join("testdata", "routes", tc.golden)
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), got)
		})
	}
}

func TestRenderTree(t *testing.T) {
	root := &treeNode{text: "root", children: []*treeNode{
		{text: "a", children: []*treeNode{{text: "a1"}, {text: "a2"}}},
		{text: "b", children: []*treeNode{{text: "b1"}}},
	}}
	require.Equal(t, ".\n"+
		"└── root\n"+
		"    ├── a\n"+
		"    │\u00a0\u00a0 ├── a1\n"+
		"    │\u00a0\u00a0 └── a2\n"+
		"    └── b\n"+
		"        └── b1\n", renderTree(root))
}
