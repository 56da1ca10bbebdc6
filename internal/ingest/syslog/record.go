package syslog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
)

// facilityNames are rsyslog's names for facilities 0–23.
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// severityNames are the names of severities 0–7.
var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// severityLevels maps severities 0–7 onto normalised levels.
var severityLevels = [8]string{
	event.LevelCritical, event.LevelCritical, event.LevelCritical, event.LevelError,
	event.LevelWarn, event.LevelInfo, event.LevelInfo, event.LevelDebug,
}

// FacilityName returns the name of facility f (0–23), or its number.
func FacilityName(f int) string {
	if f >= 0 && f < len(facilityNames) {
		return facilityNames[f]
	}
	return strconv.Itoa(f)
}

// SeverityName returns the name of severity s (0–7), or its number.
func SeverityName(s int) string {
	if s >= 0 && s < len(severityNames) {
		return severityNames[s]
	}
	return strconv.Itoa(s)
}

// Level returns the normalised event level of severity s.
func Level(s int) string {
	if s >= 0 && s < len(severityLevels) {
		return severityLevels[s]
	}
	return event.LevelUnknown
}

// String formats m for debugging.
func (m Message) String() string {
	return fmt.Sprintf("%s.%s %s %s[%s] %q", FacilityName(m.Facility), SeverityName(m.Severity), m.Hostname, m.AppName, m.ProcID, m.Text)
}

// maxLabelBytes bounds the label values taken from a message.
const maxLabelBytes = 255

// Record converts m into a log record received at now: stream labels
// app_name, hostname, facility and severity; attributes procid, msgid and
// the structured data. Bodies and values are not yet limited in size.
func (m Message) Record(now time.Time) event.Record {
	b := labels.NewScratchBuilder(4)
	if app := labelValue(m.AppName); app != "" {
		b.Add("app_name", app)
	}
	b.Add("facility", FacilityName(m.Facility))
	if host := labelValue(m.Hostname); host != "" {
		b.Add("hostname", host)
	}
	b.Add("severity", SeverityName(m.Severity))
	b.Sort()
	rec := event.Record{
		Kind:   event.KindLog,
		Time:   now.UnixNano(),
		Labels: b.Labels(),
		Body:   m.Text,
		Level:  Level(m.Severity),
	}
	if !m.Time.IsZero() {
		rec.Time = m.Time.UnixNano()
	}
	if m.ProcID != "" {
		rec.Attrs = append(rec.Attrs, event.Attr{Key: "procid", Value: m.ProcID})
	}
	if m.MsgID != "" {
		rec.Attrs = append(rec.Attrs, event.Attr{Key: "msgid", Value: m.MsgID})
	}
	rec.Attrs = append(rec.Attrs, m.StructuredData...)
	for i := range rec.Attrs {
		rec.Attrs[i].Key, _ = logmetrics.Clean(rec.Attrs[i].Key, maxLabelBytes)
		rec.Attrs[i].Value, _ = logmetrics.Clean(rec.Attrs[i].Value, 0)
	}
	rec.Body, _ = logmetrics.Clean(rec.Body, 0)
	return rec
}

func labelValue(s string) string {
	s, _ = logmetrics.Clean(strings.TrimSpace(s), maxLabelBytes)
	return s
}
