package redact

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

const R = DefaultReplacement

func newRedactor(t *testing.T, opts Options) *Redactor {
	t.Helper()
	r, err := NewRedactor(opts)
	require.NoError(t, err)
	return r
}

func TestString(t *testing.T) {
	r := newRedactor(t, Options{
		Luhn: true,
		Keys: []string{"ssn"},
		Patterns: []string{
			`\bAKIA[0-9A-Z]{16}\b`, // AWS access key IDs
			`session_id=(\w+)`,     // only the group is masked
		},
	})
	cases := []struct{ name, in, want string }{
		// JSON.
		{"json", `{"user":"bob","password":"hunter2","status":200}`, `{"user":"bob","password":"` + R + `","status":200}`},
		{"json spaces", `{"password" : "two words", "ok": 1}`, `{"password" : "` + R + `", "ok": 1}`},
		{"json escaped quote in value", `{"token":"a\"b","x":1}`, `{"token":"` + R + `","x":1}`},
		{"json key containing a default key", `{"db_password":"pg","apiKey":"k1","x-api-key":"k2"}`, `{"db_password":"` + R + `","apiKey":"` + R + `","x-api-key":"` + R + `"}`},
		{"json authorization header value", `{"headers":{"Authorization":"Bearer abc.def.ghi"}}`, `{"headers":{"Authorization":"` + R + `"}}`},
		{"json number", `{"client_secret": 123456, "n": 2}`, `{"client_secret": ` + R + `, "n": 2}`},
		{"json object value left to its keys", `{"secret":{"name":"x"}}`, `{"secret":{"name":"x"}}`},
		{"json inside a json string", `{"msg":"payload {\"token\":\"abc\",\"n\":1}"}`, `{"msg":"payload {\"token\":\"` + R + `\",\"n\":1}"}`},
		{"configured key", `{"ssn":"123-45-6789"}`, `{"ssn":"` + R + `"}`},
		// logfmt.
		{"logfmt", `level=info user=bob password=hunter2 status=200`, `level=info user=bob password=` + R + ` status=200`},
		{"logfmt quoted", `msg="login" passwd="two words" ok=true`, `msg="login" passwd="` + R + `" ok=true`},
		{"logfmt inside json string", `{"msg":"retry password=\"x y\" n=1"}`, `{"msg":"retry password=\"` + R + `\" n=1"}`},
		// Query strings.
		{"query", `GET /login?user=bob&token=abc123&next=/ HTTP/1.1`, `GET /login?user=bob&token=` + R + `&next=/ HTTP/1.1`},
		{"query access_token last", `"GET /cb?code=1&access_token=ya29.a0Af HTTP/2.0" 200`, `"GET /cb?code=1&access_token=` + R + ` HTTP/2.0" 200`},
		// Headers.
		{"bearer header", `Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig`, `Authorization: Bearer ` + R},
		{"basic header", `authorization: Basic dXNlcjpwYXNz`, `authorization: Basic ` + R},
		{"proxy authorization", `Proxy-Authorization: Digest abcdef0123`, `Proxy-Authorization: Digest ` + R},
		{"cookie header to end of line", "Cookie: session=abc; theme=dark\nHost: x", "Cookie: " + R + "\nHost: x"},
		{"set-cookie", `Set-Cookie: sid=xyz; Path=/; HttpOnly`, `Set-Cookie: ` + R},
		{"bearer anywhere", `calling billing with Bearer abcdef123456 failed`, `calling billing with Bearer ` + R + ` failed`},
		// URLs.
		{"url password", `connect postgres://app:s3cret@db:5432/crm failed`, `connect postgres://app:` + R + `@db:5432/crm failed`},
		{"url without password", `GET https://example.com:8443/a:b`, `GET https://example.com:8443/a:b`},
		// Patterns.
		{"pattern", `key AKIAIOSFODNN7EXAMPLE used`, `key ` + R + ` used`},
		{"pattern group", `session_id=abc123 ok`, `session_id=` + R + ` ok`},
		// Cards.
		{"visa spaced", `charged card 4111 1111 1111 1111 for 12.00`, `charged card ` + R + ` for 12.00`},
		{"visa dashed", `card=4111-1111-1111-1111`, `card=` + R},
		{"mastercard in json", `{"pan":"5555555555554444"}`, `{"pan":"` + R + `"}`},
		{"amex", `amex 378282246310005.`, `amex ` + R + `.`},
		{"mastercard 2-series", `2221000000000009`, R},
		{"card after a date", `2026-02-19 4012 8888 8888 1881`, `2026-02-19 ` + R},
		{"card inside a longer group run", `ref 12 4111 1111 1111 1111`, `ref 12 ` + R},
		// Nothing to redact.
		{"token counts are not tokens", `prompt_tokens=512 total_tokens=900 tokenizer=bpe`, `prompt_tokens=512 total_tokens=900 tokenizer=bpe`},
		{"key without a value", `password reset email sent to bob`, `password reset email sent to bob`},
		{"other words", `secretary=alice passwords_checked=3`, `secretary=alice passwords_checked=3`},
		{"short bearer word", `missing Bearer token`, `missing Bearer token`},
		{"bad luhn", `4111111111111112`, `4111111111111112`},
		{"unix ms passing luhn", `ts=1771495200128`, `ts=1771495200128`},
		{"unix ns passing luhn", `"time_unix_nano":1771495200123456793`, `"time_unix_nano":1771495200123456793`},
		{"phone passing luhn", `call +4915112345678`, `call +4915112345678`},
		{"decimal passing luhn", `ratio=0.4111111111111111`, `ratio=0.4111111111111111`},
		{"long id", `id=4111111111111111111111111`, `id=4111111111111111111111111`},
		{"uuid", `req 41111111-1111-1111-1111-111111111111`, `req 41111111-1111-1111-1111-111111111111`},
		{"empty", ``, ``},
		{"already redacted", `password=` + R, `password=` + R},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, changed := r.String(c.in)
			require.Equal(t, c.want, got)
			require.Equal(t, c.in != c.want, changed)
			again, changed := r.String(got)
			require.Equal(t, got, again, "redaction is idempotent")
			require.False(t, changed)
		})
	}
}

func TestLuhn(t *testing.T) {
	for s, want := range map[string]bool{
		"4111111111111111": true, "5555555555554444": true, "378282246310005": true, "6011111111111117": true,
		"2221000000000009": true, "1771495200128": true, "79927398713": true,
		"4111111111111112": false, "1234567812345678": false, "": false, "4111-1111": false, "0": true,
	} {
		require.Equal(t, want, Luhn(s), s)
	}
	r := newRedactor(t, Options{})
	got, changed := r.String("card 4111 1111 1111 1111")
	require.False(t, changed, "luhn off")
	require.Equal(t, "card 4111 1111 1111 1111", got)
}

func TestSensitiveKey(t *testing.T) {
	r := newRedactor(t, Options{Keys: []string{"private-key"}})
	for key, want := range map[string]bool{
		"password": true, "PASSWORD": true, "db_password": true, "DB_PASSWORD_FILE": true, "passwd": true,
		"token": true, "access_token": true, "accessToken": true, "refresh-token": true, "X-Auth-Token": true,
		"secret": true, "client_secret": true, "SecretKey": true, "authorization": true, "Proxy-Authorization": true,
		"cookie": true, "Set-Cookie": true, "api_key": true, "apiKey": true, "x-api-key": true, "API_KEY_ID": true,
		"credit_card": true, "creditCardNumber": true, "private_key": true, "PrivateKey": true,
		"prompt_tokens": false, "tokenizer": false, "secretary": false, "user": false, "keyboard": false,
		"cookies_enabled": false, "api": false, "": false,
	} {
		require.Equal(t, want, r.SensitiveKey(key), key)
	}
}

func TestNewRedactorErrors(t *testing.T) {
	_, err := NewRedactor(Options{Keys: []string{"-"}})
	require.ErrorContains(t, err, "too short")
	_, err = NewRedactor(Options{Patterns: []string{"("}})
	require.ErrorContains(t, err, "compile redact pattern")
}

func TestReplacement(t *testing.T) {
	r := newRedactor(t, Options{Replacement: "***"})
	got, _ := r.String("password=x token=y")
	require.Equal(t, "password=*** token=***", got)
}

// TestRecord proves that a secret is masked wherever it is: in the body, in
// attributes (by key and inside values) and in stream labels.
func TestRecord(t *testing.T) {
	count := prometheus.NewCounter(prometheus.CounterOpts{Name: "redacted_total"})
	stage, err := New(Options{Luhn: true, Redacted: count})
	require.NoError(t, err)
	recs := []event.Record{
		{
			Labels: labels.FromStrings("app", "crm", "api_token", "tok-123", "card", "4111 1111 1111 1111"),
			Body:   `{"user":"bob","password":"hunter2"}`,
			Attrs: []event.Attr{
				{Key: "password", Value: "hunter2"},
				{Key: "url", Value: "/login?token=abc123"},
				{Key: "note", Value: "paid with 5555555555554444"},
				{Key: "user", Value: "bob"},
			},
		},
		{Labels: labels.FromStrings("app", "crm"), Body: "nothing secret here", Attrs: []event.Attr{{Key: "user", Value: "bob"}}},
	}
	out, err := stage(context.Background(), recs)
	require.NoError(t, err)
	require.Equal(t, `{"user":"bob","password":"`+R+`"}`, out[0].Body)
	require.Equal(t, []event.Attr{
		{Key: "password", Value: R},
		{Key: "url", Value: "/login?token=" + R},
		{Key: "note", Value: "paid with " + R},
		{Key: "user", Value: "bob"},
	}, out[0].Attrs)
	require.Equal(t, labels.FromStrings("app", "crm", "api_token", R, "card", R), out[0].Labels)
	require.Equal(t, "nothing secret here", out[1].Body)
	require.Equal(t, 1.0, testutil.ToFloat64(count), "one record had secrets")
}

func TestRequiredLiteral(t *testing.T) {
	cases := []struct {
		expr string
		want literal
	}{
		{`\bAKIA[0-9A-Z]{16}\b`, literal{text: "AKIA"}},
		{`session_id=(\w+)`, literal{text: "session_id="}},
		{`(?i)iban[=:]\s*(\w+)`, literal{text: "iban", fold: true}},
		{`(?i)ssn=\d+`, literal{}}, // s folds onto ſ (U+017F)
		{`(?:ab)+xyz`, literal{text: "xyz"}},
		{`a|b`, literal{}},
		{`x*`, literal{}},
	}
	for _, c := range cases {
		require.Equal(t, c.want, requiredLiteral(c.expr), c.expr)
	}
	r := newRedactor(t, Options{Patterns: []string{`(?i)iban[=:]\s*([A-Z]{2}[0-9]{2}[A-Z0-9]{10,30})`}})
	got, _ := r.String("paid from IBAN: DE89370400440532013000 ok")
	require.Equal(t, "paid from IBAN: "+R+" ok", got)
}
