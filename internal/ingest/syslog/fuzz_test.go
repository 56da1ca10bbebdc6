package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
)

// format5424 encodes m as RFC 5424. It is the inverse of Parse for messages
// whose structured-data keys are unambiguous (see roundTrips).
func format5424(m Message) []byte {
	var b bytes.Buffer
	b.WriteString("<" + strconv.Itoa(m.Facility*8+m.Severity) + ">1 ")
	if m.Time.IsZero() {
		b.WriteString("-")
	} else {
		b.WriteString(m.Time.Format(time.RFC3339Nano))
	}
	for _, f := range []string{m.Hostname, m.AppName, m.ProcID, m.MsgID} {
		if f == "" {
			f = "-"
		}
		b.WriteString(" " + f)
	}
	b.WriteString(" ")
	if len(m.StructuredData) == 0 {
		b.WriteString("-")
	}
	open := ""
	for _, a := range m.StructuredData {
		id, param, hasParam := strings.Cut(a.Key, ".")
		if id != open || !hasParam {
			if open != "" {
				b.WriteString("]")
			}
			b.WriteString("[" + id)
			open = id
		}
		if hasParam {
			v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(a.Value)
			b.WriteString(" " + param + `="` + v + `"`)
		} else {
			b.WriteString("]")
			open = ""
		}
	}
	if open != "" {
		b.WriteString("]")
	}
	if m.Text != "" {
		b.WriteString(" " + m.Text)
	}
	return b.Bytes()
}

// roundTrips reports whether format5424 can reproduce m.
func roundTrips(m Message) bool {
	if !m.RFC5424 || strings.HasPrefix(m.Text, " ") || strings.HasPrefix(m.Text, "\xef\xbb\xbf") {
		return false
	}
	if !m.Time.IsZero() && (m.Time.Year() < 0 || m.Time.Year() > 9999) {
		return false
	}
	prevID, prevHasParam := "", false
	for _, a := range m.StructuredData {
		// Only "id.param" keys split one way; ids may contain dots too.
		if strings.Count(a.Key, ".") != 1 {
			return false
		}
		id, _, hasParam := strings.Cut(a.Key, ".")
		// Two parameterless elements, or one after the same id with
		// parameters, would be merged differently.
		if id == prevID && (!hasParam || !prevHasParam) {
			return false
		}
		prevID, prevHasParam = id, hasParam
	}
	return true
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xef\xbb\xbf'su root' failed",
		`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
		`<14>1 - - - - - [a@1 k="q\"b\\s\]e\x"][b@2] msg`,
		"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
		"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
		"<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!",
		"<13>Nov 01 2024 11:59:58.123 h app[1]: x",
		"<13>2025-11-21T11:59:58.5+01:00 h app: x",
		"12 <13>app: a\n<13>b\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 16<<10 {
			t.Skip()
		}
		m, err := Parse(b, testNow)
		if err != nil {
			require.True(t, errors.Is(err, ErrNoPriority))
		} else {
			require.True(t, m.Facility >= 0 && m.Facility < 24 && m.Severity >= 0 && m.Severity < 8)
			rec := m.Record(testNow)
			require.Equal(t, event.KindLog, rec.Kind)
			require.True(t, utf8.ValidString(rec.Body))
			require.NotEmpty(t, rec.Labels.Get("facility"))
			require.NotEmpty(t, rec.Labels.Get("severity"))
			rec.Labels.Range(func(l labels.Label) { require.True(t, utf8.ValidString(l.Value)) })
			if roundTrips(m) {
				again, err := Parse(format5424(m), testNow)
				require.NoError(t, err)
				require.True(t, m.Time.Equal(again.Time))
				m.Time, again.Time = time.Time{}, time.Time{}
				require.Equal(t, m, again)
			}
		}

		// The same bytes as a TCP stream: frames never exceed the limit. A
		// small buffer makes frames straddle refills.
		fr := &frameReader{r: bufio.NewReaderSize(bytes.NewReader(b), 16), max: 64}
		for range 1000 {
			frame, _, err := fr.next()
			if err != nil {
				require.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
				break
			}
			require.LessOrEqual(t, len(frame), 64)
		}
		_, _ = logmetrics.Clean(string(b), 64)
	})
}
