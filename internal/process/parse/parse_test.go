package parse

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

// Application log lines in the shapes the users' services write them.
const (
	// FastAPI with structlog's JSONRenderer, one line per request.
	structlogLine = `{"timestamp": "2026-02-19T10:00:00", "level": "info", "name": "app", "event": "request_completed", "request_id": "9f1c2a7e-4b7d-4e0b-9a55-0c2f3b1d8e21", "method": "POST", "path": "/api/v1/orders", "status_code": 201, "duration_ms": 245.31, "user_id": "789", "ip": "203.0.113.7"}`
	// Django's StructuredLogger formatter (severity = levelname).
	djangoLine = `{"timestamp": "2025-11-30T08:15:02.481516Z", "severity": "WARNING", "message": "Seat acquisition denied", "logger": "licenses.seats", "function": "acquire", "line": 88, "license_key": "LIC-1234", "tenant_id": "t-42", "user_email": "dana@example.com"}`
	// PHP Monolog's JsonFormatter: numeric level, nested context.
	monologLine = `{"message":"Contact updated","context":{"user_id":17,"contact":{"id":5521,"fields":["email","phone"]}},"level":200,"level_name":"INFO","channel":"crm","datetime":"2025-01-14T09:12:44.123456+00:00","extra":{}}`
	// A Go service writing the fields the dashboards use, with a message key.
	appLine = `{"level":"error","message":"charge failed","user_id":42,"ip":"198.51.100.23","method":"POST","path":"/api/v1/payments","status":502,"duration_ms":1834,"request_id":"req-7f3a","trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736"}`
)

func attrs(kv ...string) []event.Attr {
	var out []event.Attr
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, event.Attr{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestStage(t *testing.T) {
	cases := []struct {
		name  string
		opts  Options
		body  string
		prior []event.Attr
		want  []event.Attr
	}{
		{
			name: "structlog request line", opts: Options{JSON: true}, body: structlogLine,
			want: attrs("timestamp", "2026-02-19T10:00:00", "level", "info", "name", "app", "event", "request_completed",
				"request_id", "9f1c2a7e-4b7d-4e0b-9a55-0c2f3b1d8e21", "method", "POST", "path", "/api/v1/orders",
				"status_code", "201", "duration_ms", "245.31", "user_id", "789", "ip", "203.0.113.7"),
		},
		{
			name: "django structured logger", opts: Options{JSON: true}, body: djangoLine,
			want: attrs("timestamp", "2025-11-30T08:15:02.481516Z", "severity", "WARNING", "message", "Seat acquisition denied",
				"logger", "licenses.seats", "function", "acquire", "line", "88", "license_key", "LIC-1234", "tenant_id", "t-42",
				"user_email", "dana@example.com"),
		},
		{
			name: "monolog nested context", opts: Options{JSON: true}, body: monologLine,
			want: attrs("message", "Contact updated", "context_user_id", "17", "context_contact_id", "5521",
				"context_contact_fields", `["email","phone"]`, "level", "200", "level_name", "INFO", "channel", "crm",
				"datetime", "2025-01-14T09:12:44.123456+00:00"),
		},
		{
			name: "keep only some fields", body: appLine,
			opts: Options{JSON: true, Keep: func(k string) bool { return k == "level" || k == "trace_id" }},
			want: attrs("level", "error", "trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
		},
		{
			name: "keep sees sanitised nested keys", body: monologLine,
			opts: Options{JSON: true, Keep: func(k string) bool { return k == "context_user_id" || k == "level_name" }},
			want: attrs("context_user_id", "17", "level_name", "INFO"),
		},
		{
			name: "dotted separator", opts: Options{JSON: true, Separator: "."}, body: `{"http":{"method":"GET","status":200}}`,
			want: attrs("http.method", "GET", "http.status", "200"),
		},
		{
			name: "receiver attribute kept, parsed one suffixed", opts: Options{JSON: true}, body: appLine,
			prior: attrs("level", "ERROR", "service", "payments"),
			want: attrs("level", "ERROR", "service", "payments",
				"level_extracted", "error", "message", "charge failed", "user_id", "42", "ip", "198.51.100.23", "method", "POST",
				"path", "/api/v1/payments", "status", "502", "duration_ms", "1834", "request_id", "req-7f3a",
				"trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
		},
		{
			name: "duplicate keys: first wins", opts: Options{JSON: true}, body: `{"a":"1","a":"2","b":{"c":3},"b_c":4}`,
			want: attrs("a", "1", "b_c", "3"),
		},
		{
			name: "keys sanitised", opts: Options{JSON: true}, body: `{"@timestamp":"t","user-agent":"curl","1st":"x","log.level":"warn"}`,
			want: attrs("_timestamp", "t", "user_agent", "curl", "_1st", "x", "log_level", "warn"),
		},
		{
			name: "invalid JSON falls through to logfmt", opts: Options{JSON: true, Logfmt: true}, body: `{"level":"info", broken} level=warn`,
			want: attrs("level", "warn"),
		},
		{
			name: "JSON wins over patterns", opts: Options{JSON: true, Patterns: []string{"%{GREEDYDATA:all}"}}, body: `{"a":"b"}`,
			want: attrs("a", "b"),
		},
		{
			name: "grok nginx", opts: Options{JSON: true, Logfmt: true, Patterns: []string{"%{COMBINEDAPACHELOG}"}},
			body: `203.0.113.7 - - [19/Feb/2026:10:00:00 +0000] "GET /contacts?page=2 HTTP/1.1" 200 5123 "-" "curl/8.5.0"`,
			want: attrs("clientip", "203.0.113.7", "ident", "-", "auth", "-", "timestamp", "19/Feb/2026:10:00:00 +0000",
				"verb", "GET", "request", "/contacts?page=2", "httpversion", "1.1", "response", "200", "bytes", "5123",
				"referrer", "-", "agent", "curl/8.5.0"),
		},
		{
			name: "first matching pattern wins", opts: Options{Patterns: []string{`^%{INT:n}$`, `^%{WORD:w}`, `%{GREEDYDATA:all}`}},
			body: "hello world", want: attrs("w", "hello"),
		},
		{
			name: "logstash field references", opts: Options{Patterns: []string{`%{WORD:[http][method]} %{URIPATHPARAM:[url][original]}`}},
			body: "GET /a?b=1", want: attrs("http_method", "GET", "url_original", "/a?b=1"),
		},
		{
			name: "logfmt", opts: Options{Logfmt: true},
			body: `time=2026-02-19T10:00:00Z level=info msg="request completed" method=GET path=/api/v1/contacts status=200 duration_ms=12 request_id=abc`,
			want: attrs("time", "2026-02-19T10:00:00Z", "level", "info", "msg", "request completed", "method", "GET",
				"path", "/api/v1/contacts", "status", "200", "duration_ms", "12", "request_id", "abc"),
		},
		{
			name: "logfmt after a plain prefix", opts: Options{Logfmt: true},
			body: `2026-02-19 10:00:00 WARN cache miss key="user:42" ratio=0.41`,
			want: attrs("key", "user:42", "ratio", "0.41"),
		},
		{name: "nothing understood", opts: Options{JSON: true, Logfmt: true}, body: "plain text line", want: nil},
		{name: "JSON off", opts: Options{Logfmt: true}, body: `{"a":"b"}`, want: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stage, err := New(c.opts)
			require.NoError(t, err)
			recs := []event.Record{{Body: c.body, Attrs: c.prior}}
			out, err := stage(context.Background(), recs)
			require.NoError(t, err)
			require.Len(t, out, 1)
			require.Equal(t, c.want, out[0].Attrs)
			require.Equal(t, c.body, out[0].Body, "the body is kept as received")
		})
	}
}

func TestNewRejectsBadPattern(t *testing.T) {
	_, err := New(Options{Patterns: []string{"%{NOPE}"}})
	require.ErrorContains(t, err, `compile pattern 0 "%{NOPE}": unknown pattern %{NOPE}`)
}

func TestJSONFields(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
		want     []event.Attr
	}{
		{"empty object", ` {} `, true, nil},
		{"scalars", `{"s":"x","i":-1,"f":1.5e3,"t":true,"f2":false,"n":null}`, true, attrs("s", "x", "i", "-1", "f", "1.5e3", "t", "true", "f2", "false")},
		{"escapes", `{"a":"line\nnext \"q\" \\ \/ \u00e9 \ud83d\ude00"}`, true, attrs("a", "line\nnext \"q\" \\ / é 😀")},
		{"lone surrogate", `{"a":"\ud800x"}`, true, attrs("a", "\uFFFDx")},
		{"escaped key", `{"a\"b":1}`, true, attrs(`a"b`, "1")},
		{"array kept as text", `{"tags":[1, {"a":[]}, "x"]}`, true, attrs("tags", `[1, {"a":[]}, "x"]`)},
		{"empty nested object", `{"a":{},"b":1}`, true, attrs("b", "1")},
		{"deep nesting kept as text", `{"a":` + strings.Repeat(`{"a":`, 16) + `1` + strings.Repeat(`}`, 17), true,
			attrs(strings.Repeat("a_", 15)+"a", `{"a":1}`)},
		{"not an object", `["a"]`, false, nil},
		{"trailing comma", `{"a":1,}`, false, attrs("a", "1")},
		{"trailing data", `{"a":1} x`, false, attrs("a", "1")},
		{"single quotes", `{'a':1}`, false, nil},
		{"leading zero", `{"a":01}`, false, attrs("a", "0")},
		{"control character", "{\"a\":\"x\ty\"}", false, nil},
		{"bad escape", `{"a":"\x"}`, false, nil},
		{"unterminated", `{"a":"x`, false, nil},
		{"bare word", `{"a":nul}`, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []event.Attr
			ok := JSONFields(c.in, "_", func(k, v string) { got = append(got, event.Attr{Key: k, Value: v}) })
			require.Equal(t, c.ok, ok)
			require.Equal(t, c.want, got)
		})
	}
}

func TestLogfmtFields(t *testing.T) {
	cases := []struct {
		in   string
		want []event.Attr
	}{
		{`a=1 b="two words" c= d`, attrs("a", "1", "b", "two words", "c", "")},
		{`msg="quote \" inside" tab="a\tb"`, attrs("msg", `quote " inside`, "tab", "a\tb")},
		{`bad="\q" next=1`, attrs("bad", `\q`, "next", "1")},
		{`url=/a?b=c&d=e`, attrs("url", "/a?b=c&d=e")},
		{`"quoted key"=1 k=v`, attrs("k", "v")},
		{`word "a=b" x=y`, attrs("x", "y")},
		{`=v k=v2`, attrs("k", "v2")},
		{`a=1 b="unterminated`, attrs("a", "1")},
		{"", nil},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			var got []event.Attr
			n := LogfmtFields(c.in, func(k, v string) { got = append(got, event.Attr{Key: k, Value: v}) })
			require.Equal(t, c.want, got)
			require.Equal(t, len(c.want), n)
		})
	}
}

func TestSanitizeKey(t *testing.T) {
	for in, want := range map[string]string{
		"user_id": "user_id", "user-agent": "user_agent", "@timestamp": "_timestamp", "2fa": "_2fa",
		"[http][request][method]": "http_request_method", "log.level": "log_level", "ünï": "__n__",
	} {
		require.Equal(t, want, SanitizeKey(in, "_"), in)
	}
	require.Equal(t, "log.level", SanitizeKey("log.level", "."))
}
