package syslog

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

var testNow = time.Date(2025, 11, 21, 12, 0, 0, 0, time.UTC)

func at(layout, value string) time.Time {
	t, err := time.Parse(layout, value)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	tests := []struct {
		name string
		in   string
		now  time.Time // default testNow
		want Message
		err  bool
	}{
		// RFC 5424 section 6.5.
		{name: "5424 example 1", in: "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " + bom + "'su root' failed for lonvick on /dev/pts/8",
			want: Message{Facility: 4, Severity: 2, RFC5424: true, Time: at(time.RFC3339Nano, "2003-10-11T22:14:15.003Z"),
				Hostname: "mymachine.example.com", AppName: "su", MsgID: "ID47", Text: "'su root' failed for lonvick on /dev/pts/8"}},
		{name: "5424 example 2", in: "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
			want: Message{Facility: 20, Severity: 5, RFC5424: true, Time: at(time.RFC3339Nano, "2003-08-24T05:14:15.000003-07:00"),
				Hostname: "192.0.2.1", AppName: "myproc", ProcID: "8710", Text: "%% It's time to make the do-nuts."}},
		{name: "5424 example 3", in: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ` + bom + "An application event log entry...",
			want: Message{Facility: 20, Severity: 5, RFC5424: true, Time: at(time.RFC3339Nano, "2003-10-11T22:14:15.003Z"),
				Hostname: "mymachine.example.com", AppName: "evntslog", MsgID: "ID47",
				StructuredData: []event.Attr{{Key: "exampleSDID@32473.iut", Value: "3"}, {Key: "exampleSDID@32473.eventSource", Value: "Application"}, {Key: "exampleSDID@32473.eventID", Value: "1011"}},
				Text:           "An application event log entry..."}},
		{name: "5424 example 4", in: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
			want: Message{Facility: 20, Severity: 5, RFC5424: true, Time: at(time.RFC3339Nano, "2003-10-11T22:14:15.003Z"),
				Hostname: "mymachine.example.com", AppName: "evntslog", MsgID: "ID47",
				StructuredData: []event.Attr{{Key: "exampleSDID@32473.iut", Value: "3"}, {Key: "exampleSDID@32473.eventSource", Value: "Application"}, {Key: "exampleSDID@32473.eventID", Value: "1011"}, {Key: "examplePriority@32473.class", Value: "high"}}}},
		{name: "5424 from logger", in: `<13>1 2025-11-21T11:59:58.123456+00:00 web-1 root - - [timeQuality tzKnown="1" isSynced="1" syncAccuracy="76000"] hello`,
			want: Message{Facility: 1, Severity: 5, RFC5424: true, Time: at(time.RFC3339Nano, "2025-11-21T11:59:58.123456Z"),
				Hostname: "web-1", AppName: "root",
				StructuredData: []event.Attr{{Key: "timeQuality.tzKnown", Value: "1"}, {Key: "timeQuality.isSynced", Value: "1"}, {Key: "timeQuality.syncAccuracy", Value: "76000"}},
				Text:           "hello"}},
		{name: "5424 all nil", in: `<14>1 - - - - - -`, want: Message{Facility: 1, Severity: 6, RFC5424: true}},
		{name: "5424 relayed by rsyslog", in: `<163>1 2025-11-21T11:59:58+00:00 edge-1 billing 4242 - -  invoice 17 failed`,
			want: Message{Facility: 20, Severity: 3, RFC5424: true, Time: at(time.RFC3339Nano, "2025-11-21T11:59:58Z"),
				Hostname: "edge-1", AppName: "billing", ProcID: "4242", Text: "invoice 17 failed"}},
		{name: "5424 sd escapes and bare element", in: `<14>1 - - - - - [a@1 k="q\"b\\s\]e\x"][b@2] msg`,
			want: Message{Facility: 1, Severity: 6, RFC5424: true,
				StructuredData: []event.Attr{{Key: "a@1.k", Value: `q"b\s]e\x`}, {Key: "b@2"}}, Text: "msg"}},
		{name: "5424 unreadable timestamp", in: `<14>1 yesterday h a p m - text`,
			want: Message{Facility: 1, Severity: 6, RFC5424: true, Hostname: "h", AppName: "a", ProcID: "p", MsgID: "m", Text: "text"}},
		{name: "5424 broken sd read as 3164", in: `<14>1 2025-11-21T12:00:00Z h a p m [broken msg`,
			want: Message{Facility: 1, Severity: 6, Text: "1 2025-11-21T12:00:00Z h a p m [broken msg"}},
		{name: "5424 short header read as 3164", in: `<14>1 x`, want: Message{Facility: 1, Severity: 6, Text: "1 x"}},

		// RFC 3164 section 5.4.
		{name: "3164 example 1", in: "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
			want: Message{Facility: 4, Severity: 2, Time: time.Date(2025, 10, 11, 22, 14, 15, 0, time.UTC),
				Hostname: "mymachine", AppName: "su", Text: "'su root' failed for lonvick on /dev/pts/8"}},
		{name: "3164 example 2", in: "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
			want: Message{Facility: 1, Severity: 5, Time: time.Date(2025, 2, 5, 17, 32, 18, 0, time.UTC), Hostname: "10.0.0.99", Text: "Use the BFG!"}},
		{name: "3164 example 3", in: "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.",
			want: Message{Facility: 20, Severity: 5, Time: time.Date(2025, 8, 24, 5, 34, 0, 0, time.UTC), Hostname: "CST",
				Text: "1987 mymachine myproc[10]: %% It's time to make the do-nuts."}},
		{name: "3164 example 4", in: "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!",
			want: Message{Text: "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!"}},

		{name: "3164 from logger", in: "<13>Nov 21 11:59:58 web-1 root: hello world",
			want: Message{Facility: 1, Severity: 5, Time: time.Date(2025, 11, 21, 11, 59, 58, 0, time.UTC), Hostname: "web-1", AppName: "root", Text: "hello world"}},
		{name: "3164 nginx", in: `<190>Nov 21 11:59:58 web-1 nginx: 127.0.0.1 - - "GET / HTTP/1.1" 200`,
			want: Message{Facility: 23, Severity: 6, Time: time.Date(2025, 11, 21, 11, 59, 58, 0, time.UTC), Hostname: "web-1", AppName: "nginx",
				Text: `127.0.0.1 - - "GET / HTTP/1.1" 200`}},
		{name: "3164 without hostname, with pid", in: "<38>Nov 21 11:59:58 sshd[123]: Accepted publickey",
			want: Message{Facility: 4, Severity: 6, Time: time.Date(2025, 11, 21, 11, 59, 58, 0, time.UTC), AppName: "sshd", ProcID: "123", Text: "Accepted publickey"}},
		{name: "3164 pid without colon", in: "<38>Nov 21 11:59:58 host sshd[123] Accepted",
			want: Message{Facility: 4, Severity: 6, Time: time.Date(2025, 11, 21, 11, 59, 58, 0, time.UTC), Hostname: "host", AppName: "sshd", ProcID: "123", Text: "Accepted"}},
		{name: "3164 unpadded day, fraction", in: "<13>Nov 1 11:59:58.123 h app: x",
			want: Message{Facility: 1, Severity: 5, Time: time.Date(2025, 11, 1, 11, 59, 58, 123000000, time.UTC), Hostname: "h", AppName: "app", Text: "x"}},
		{name: "3164 zero-padded day with year", in: "<13>Nov 01 2024 11:59:58 h app: x",
			want: Message{Facility: 1, Severity: 5, Time: time.Date(2024, 11, 1, 11, 59, 58, 0, time.UTC), Hostname: "h", AppName: "app", Text: "x"}},
		{name: "3164 december read in january", in: "<13>Dec 31 23:59:59 h app: x", now: time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC),
			want: Message{Facility: 1, Severity: 5, Time: time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), Hostname: "h", AppName: "app", Text: "x"}},
		{name: "3164 january read in december", in: "<13>Jan  1 00:00:01 h app: x", now: time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC),
			want: Message{Facility: 1, Severity: 5, Time: time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC), Hostname: "h", AppName: "app", Text: "x"}},
		{name: "3164 rfc3339 timestamp", in: "<13>2025-11-21T11:59:58.5+01:00 h app: x",
			want: Message{Facility: 1, Severity: 5, Time: at(time.RFC3339Nano, "2025-11-21T11:59:58.5+01:00"), Hostname: "h", AppName: "app", Text: "x"}},
		{name: "3164 tag only", in: "<13>app: message", want: Message{Facility: 1, Severity: 5, AppName: "app", Text: "message"}},
		{name: "3164 text only", in: "<13>just some text", want: Message{Facility: 1, Severity: 5, Text: "just some text"}},
		{name: "3164 bad date is text", in: "<13>Nov 32 11:59:58 h app: x", want: Message{Facility: 1, Severity: 5, Text: "Nov 32 11:59:58 h app: x"}},
		{name: "pri only", in: "<13>", want: Message{Facility: 1, Severity: 5}},
		{name: "largest pri", in: "<191>x", want: Message{Facility: 23, Severity: 7, Text: "x"}},

		{name: "pri too large", in: "<192>x", err: true},
		{name: "pri too long", in: "<0013>x", err: true},
		{name: "empty pri", in: "<>x", err: true},
		{name: "no pri", in: "Nov 21 11:59:58 h app: x", err: true},
		{name: "unterminated pri", in: "<13", err: true},
		{name: "empty", in: "", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			got, err := Parse([]byte(tc.in), now)
			if tc.err {
				require.ErrorIs(t, err, ErrNoPriority)
				return
			}
			require.NoError(t, err)
			// Times are compared as instants: time.Parse picks Local for an
			// offset that matches the local zone.
			require.True(t, tc.want.Time.Equal(got.Time), "time %v, want %v", got.Time, tc.want.Time)
			tc.want.Time, got.Time = time.Time{}, time.Time{}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestMessageRecord(t *testing.T) {
	tests := []struct {
		name string
		in   Message
		want event.Record
	}{
		{
			name: "5424 with everything",
			in: Message{Facility: 4, Severity: 2, RFC5424: true, Time: at(time.RFC3339Nano, "2003-10-11T22:14:15.003Z"),
				Hostname: "mymachine", AppName: "su", ProcID: "42", MsgID: "ID47",
				StructuredData: []event.Attr{{Key: "a@1.k", Value: "v"}}, Text: "bad \xff"},
			want: event.Record{Kind: event.KindLog, Time: at(time.RFC3339Nano, "2003-10-11T22:14:15.003Z").UnixNano(),
				Labels: labels.FromStrings("app_name", "su", "facility", "auth", "hostname", "mymachine", "severity", "crit"),
				Body:   "bad \uFFFD", Level: event.LevelCritical,
				Attrs: []event.Attr{{Key: "procid", Value: "42"}, {Key: "msgid", Value: "ID47"}, {Key: "a@1.k", Value: "v"}}},
		},
		{
			name: "no time, app or host",
			in:   Message{Facility: 23, Severity: 4, Text: "x"},
			want: event.Record{Kind: event.KindLog, Time: testNow.UnixNano(),
				Labels: labels.FromStrings("facility", "local7", "severity", "warning"), Body: "x", Level: event.LevelWarn},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.in.Record(testNow))
		})
	}
}

func TestSeverityLevels(t *testing.T) {
	want := map[string]string{
		"emerg": "critical", "alert": "critical", "crit": "critical", "err": "error",
		"warning": "warn", "notice": "info", "info": "info", "debug": "debug",
	}
	for sev := range 8 {
		require.Equal(t, want[SeverityName(sev)], Level(sev), SeverityName(sev))
	}
	require.Equal(t, "kern", FacilityName(0))
	require.Equal(t, "authpriv", FacilityName(10))
	require.Equal(t, "ftp", FacilityName(11))
	require.Equal(t, "local0", FacilityName(16))
	require.Equal(t, "local7", FacilityName(23))
}
