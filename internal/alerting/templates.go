package alerting

// lookoutTemplates are parsed after Alertmanager's defaults and before the
// user's templates. They name Lookout as the sender, link to Lookout's
// alerts page and put each alert's summary, description and runbook (the
// runbook_url annotation, or a runbook annotation holding text) into the
// default Slack message. PagerDuty, email, webhook and most other
// integrations already carry every annotation, runbooks included.
const lookoutTemplates = `
{{ define "__alertmanager" }}Lookout{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}
{{ define "__lookout_runbook" }}{{ with .Annotations.runbook_url }}Runbook: {{ . }}
{{ end }}{{ with .Annotations.runbook }}Runbook: {{ . }}
{{ end }}{{ end }}
{{ define "slack.default.text" }}{{ range .Alerts }}{{ if eq .Status "resolved" }}[RESOLVED] {{ end }}*{{ .Labels.alertname }}*{{ with .Annotations.summary }}: {{ . }}{{ end }}
{{ with .Annotations.description }}{{ . }}
{{ end }}{{ template "__lookout_runbook" . }}{{ end }}{{ end }}
{{ define "pagerduty.default.description" }}{{ template "__subject" . }}{{ with (index .Alerts 0).Annotations.runbook_url }} (runbook: {{ . }}){{ end }}{{ end }}
`
