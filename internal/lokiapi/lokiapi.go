// Package lokiapi serves Loki's HTTP query API (/loki/api/v1/...) over the
// event store and the LogQL engine, with Loki's response shapes, so that
// Grafana's Loki data source and logcli work against Lookout unchanged.
package lokiapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/labelname"
)

// Prefix is where the API is mounted.
const Prefix = "/loki/api/v1"

// Options configures the API.
type Options struct {
	// MaxEntriesLimit bounds a log query's limit parameter (Loki's
	// max_entries_limit_per_query); 0 means 5000.
	MaxEntriesLimit int
	// Version is reported by status/buildinfo.
	Version string
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	_ struct{}
}

// API is the Loki query API.
type API struct {
	store   eventstore.Store
	engine  Engine
	opts    Options
	tailing atomic.Int64 // open tail connections
}

// New returns the API over store and engine.
func New(store eventstore.Store, engine Engine, opts Options) *API {
	if opts.MaxEntriesLimit <= 0 {
		opts.MaxEntriesLimit = 5000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &API{store: store, engine: engine, opts: opts}
}

// Register adds the API's routes to mux. Loki accepts GET and POST
// (form-encoded) on its query endpoints.
func (a *API) Register(mux *http.ServeMux) {
	for _, m := range []string{"GET ", "POST "} {
		mux.HandleFunc(m+Prefix+"/query", a.handleQuery)
		mux.HandleFunc(m+Prefix+"/query_range", a.handleQueryRange)
		mux.HandleFunc(m+Prefix+"/labels", a.handleLabels)
		mux.HandleFunc(m+Prefix+"/label", a.handleLabels)
		mux.HandleFunc(m+Prefix+"/label/{name}/values", a.handleLabelValues)
		mux.HandleFunc(m+Prefix+"/series", a.handleSeries)
		mux.HandleFunc(m+Prefix+"/index/stats", a.handleIndexStats)
		mux.HandleFunc(m+Prefix+"/detected_fields", a.handleDetectedFields)
	}
	mux.HandleFunc("GET "+Prefix+"/tail", a.handleTail)
	mux.HandleFunc("GET "+Prefix+"/status/buildinfo", a.handleBuildInfo)
	mux.HandleFunc("GET "+Prefix+"/format_query", a.handleFormatQuery)
	mux.HandleFunc("POST "+Prefix+"/format_query", a.handleFormatQuery)
}

// writeError answers like Loki: a plain-text message with 400 for bad
// requests and parse errors, 503 when the store is unavailable, 500 else.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	var br badRequest
	switch {
	case errors.As(err, &br), isClientError(err):
		code = http.StatusBadRequest
	case errors.Is(err, context.Canceled):
		code = 499
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
	case errors.Is(err, eventstore.ErrClosed):
		code = http.StatusServiceUnavailable
	}
	if code >= 500 {
		a.opts.Logger.Warn("loki api request failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(err.Error()))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

type envelope struct {
	Status string `json:"status"`
	Data   any    `json:"data"`
}

func (a *API) parse(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errBad("parse form: %v", err)
	}
	return nil
}

func (a *API) handleLabels(w http.ResponseWriter, r *http.Request) {
	start, end, ms, err := a.metaParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	names, err := a.store.LabelNames(r.Context(), event.KindLog, start, end, ms)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, envelope{Status: "success", Data: names})
}

func (a *API) handleLabelValues(w http.ResponseWriter, r *http.Request) {
	start, end, ms, err := a.metaParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	name := r.PathValue("name")
	if !labelname.Valid(name) {
		a.writeError(w, r, errBad("invalid label name %q", name))
		return
	}
	vals, err := a.store.LabelValues(r.Context(), event.KindLog, name, start, end, ms)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if vals == nil {
		vals = []string{}
	}
	writeJSON(w, envelope{Status: "success", Data: vals})
}

// metaParams reads start/end/since and the optional query selector of the
// label endpoints.
func (a *API) metaParams(r *http.Request) (start, end int64, ms []*labels.Matcher, err error) {
	if err = a.parse(r); err != nil {
		return
	}
	var s, e time.Time
	if s, e, err = timeRange(r, a.opts.Now()); err != nil {
		return
	}
	if ms, err = selectorParam("query", r.Form.Get("query")); err != nil {
		return
	}
	return s.UnixNano(), e.UnixNano() + 1, ms, nil
}

func (a *API) handleSeries(w http.ResponseWriter, r *http.Request) {
	if err := a.parse(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	s, e, err := timeRange(r, a.opts.Now())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	sels := r.Form["match[]"]
	if len(sels) == 0 {
		sels = r.Form["match"]
	}
	seen := map[uint64]bool{}
	out := []map[string]string{}
	var all []labels.Labels
	if len(sels) == 0 {
		sels = []string{""}
	}
	for _, sel := range sels {
		ms, err := selectorParam("match[]", sel)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		series, err := a.store.Series(r.Context(), event.KindLog, s.UnixNano(), e.UnixNano()+1, ms)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		for _, ls := range series {
			if h := ls.Hash(); !seen[h] {
				seen[h] = true
				all = append(all, ls)
			}
		}
	}
	slices.SortFunc(all, labels.Compare)
	for _, ls := range all {
		out = append(out, ls.Map())
	}
	writeJSON(w, envelope{Status: "success", Data: out})
}

func (a *API) handleIndexStats(w http.ResponseWriter, r *http.Request) {
	if err := a.parse(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	s, e, err := timeRange(r, a.opts.Now())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	ms, err := selectorParam("query", r.Form.Get("query"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	st, err := a.store.Stats(r.Context(), eventstore.Selector{Kind: event.KindLog, Start: s.UnixNano(), End: e.UnixNano() + 1, Matchers: ms})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	// Lookout has no chunks; each stream counts as one, so clients that
	// divide by chunks stay sane.
	writeJSON(w, map[string]uint64{"streams": st.Streams, "chunks": st.Streams, "entries": st.Entries, "bytes": st.Bytes})
}

func (a *API) handleBuildInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"version": a.opts.Version, "revision": "", "branch": "", "buildUser": "", "buildDate": "", "goVersion": ""})
}
