package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newQueryCmd(stdio IO) *cobra.Command {
	var server, at, token string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "query PROMQL",
		Short: "Run an instant PromQL query against a running Lookout (or Prometheus) server",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if token == "" {
				token = os.Getenv("LOOKOUT_TOKEN")
			}
			v := url.Values{"query": {args[0]}}
			if at != "" {
				v.Set("time", at)
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimRight(server, "/")+"/api/v1/query", strings.NewReader(v.Encode()))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := (&http.Client{Timeout: timeout}).Do(req)
			if err != nil {
				return fmt.Errorf("query %s: %w", server, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			if err != nil {
				return fmt.Errorf("read response: %w", err)
			}
			return printQueryResult(stdio.Stdout, resp.StatusCode, body)
		},
	}
	cmd.Flags().StringVar(&server, "server", "http://127.0.0.1:9900", "base URL of the server")
	cmd.Flags().StringVar(&at, "time", "", "evaluation time (RFC 3339 or Unix seconds); default now")
	cmd.Flags().StringVar(&token, "token", "", "bearer token (default $LOOKOUT_TOKEN)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "request timeout")
	return cmd
}

type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Data      json.RawMessage `json:"data"`
}

type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// printQueryResult prints one line per series, like promtool query instant.
func printQueryResult(w io.Writer, status int, body []byte) error {
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("server answered %d with a non-API body: %.200s", status, body)
	}
	if r.Status != "success" {
		return exitError{code: 1, err: fmt.Errorf("%s: %s", r.ErrorType, r.Error)}
	}
	for _, wn := range r.Warnings {
		fmt.Fprintln(w, "warning:", wn)
	}
	var d queryData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return fmt.Errorf("decode result: %w", err)
	}
	switch d.ResultType {
	case "vector":
		var ss []sample
		if err := json.Unmarshal(d.Result, &ss); err != nil {
			return fmt.Errorf("decode vector: %w", err)
		}
		for _, s := range ss {
			fmt.Fprintf(w, "%s => %v @[%v]\n", formatMetric(s.Metric), s.Value[1], s.Value[0])
		}
	case "scalar", "string":
		var v [2]any
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return fmt.Errorf("decode %s: %w", d.ResultType, err)
		}
		fmt.Fprintf(w, "%v @[%v]\n", v[1], v[0])
	default:
		fmt.Fprintln(w, string(d.Result))
	}
	return nil
}

func formatMetric(m map[string]string) string {
	name := m["__name__"]
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}
