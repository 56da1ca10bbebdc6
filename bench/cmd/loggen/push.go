package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/loopback"
	"github.com/lookout-dev/lookout/bench/internal/procstat"
)

type pushConfig struct {
	url         string
	files       []string
	batch       int
	streams     int
	streamBy    string // request or line
	concurrency int
	format      string
	timeout     time.Duration
	maxRetries  int
	serverPID   int
	app         string
}

type pushResult struct {
	URL             string         `json:"url"`
	Format          string         `json:"format"`
	Streams         int            `json:"streams"`
	Concurrency     int            `json:"concurrency"`
	Batch           int            `json:"batch"`
	LinesSent       int64          `json:"lines_sent"` // acknowledged with a 2xx
	LinesFailed     int64          `json:"lines_failed"`
	RawBytes        int64          `json:"raw_bytes"` // bytes of the lines sent, newline included
	WireBytes       int64          `json:"wire_bytes"`
	Requests        int64          `json:"requests"`
	Retries         int64          `json:"retries"`
	ErrorsByStatus  map[string]int `json:"errors_by_status,omitempty"`
	FirstError      string         `json:"first_error,omitempty"`
	WallSeconds     float64        `json:"wall_seconds"`
	LinesPerSecond  float64        `json:"lines_per_second"`
	MBPerSecond     float64        `json:"mb_per_second"` // 10^6 bytes of raw lines per wall second
	ServerCPU       float64        `json:"server_cpu_seconds,omitempty"`
	PusherCPU       float64        `json:"pusher_cpu_seconds"`
	MachineBusy     float64        `json:"machine_busy_seconds"`
	BackgroundCores float64        `json:"background_cores"` // machine − server − pusher, ÷ wall
	FirstTSNS       int64          `json:"first_ts_ns"`
	LastTSNS        int64          `json:"last_ts_ns"`
}

func runPush(ctx context.Context, args []string) error {
	var cfg pushConfig
	var files multi
	fs := newFlagSet("push")
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:3100/loki/api/v1/push", "Loki push endpoint (loopback only)")
	fs.Var(&files, "file", "log file to send, from loggen gen (repeatable); the source label is json when its first byte is {, else nginx")
	fs.IntVar(&cfg.batch, "batch", 1000, "lines per request")
	fs.IntVar(&cfg.streams, "streams", 4, "streams per file: label host=web-00…")
	fs.StringVar(&cfg.streamBy, "stream-by", "request", "request: the lines of one request_id go to one stream, as one host logs a request, other lines round robin; "+
		"line: line i goes to stream i mod N (every run before the requests model)")
	fs.IntVar(&cfg.concurrency, "concurrency", 4, "requests in flight; each stream is always sent by the same sender, in order")
	fs.StringVar(&cfg.format, "format", "proto", "proto (snappy-compressed protobuf, as Promtail and Alloy send) or json")
	fs.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "per-request timeout")
	fs.IntVar(&cfg.maxRetries, "max-retries", 30, "retries per request on 429, 5xx and transport errors (honouring Retry-After)")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "if set, report the CPU seconds this process used while sending")
	fs.StringVar(&cfg.app, "app", "bench", "value of the app label")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.files = files
	if err := loopback.Check(cfg.url); err != nil {
		return err
	}
	if len(cfg.files) == 0 || cfg.batch < 1 || cfg.streams < 1 || cfg.concurrency < 1 {
		return errors.New("want -file, and -batch, -streams, -concurrency ≥ 1")
	}
	if cfg.streamBy != "request" && cfg.streamBy != "line" {
		return fmt.Errorf("-stream-by: want request or line, not %q", cfg.streamBy)
	}
	if cfg.format != "proto" && cfg.format != "json" {
		return fmt.Errorf("-format %q: want proto or json", cfg.format)
	}
	res, err := push(ctx, cfg)
	if err != nil {
		return err
	}
	if err := emit(res); err != nil {
		return err
	}
	if res.LinesFailed > 0 || res.LinesSent == 0 {
		return fmt.Errorf("%d lines failed, %d sent", res.LinesFailed, res.LinesSent)
	}
	return nil
}

// batch is a request's worth of lines for one sender; arena holds the line bytes.
type batch struct {
	entries []entry
	arena   []byte
	ends    []int // end of each entry's line in arena
	raw     int64 // line bytes + newlines
}

type pusher struct {
	cfg     pushConfig
	streams []stream
	client  *http.Client

	sent, failed, raw, wire, requests, retries atomic.Int64
	firstTS, lastTS                            atomic.Int64

	mu         sync.Mutex
	errs       map[string]int
	firstError string
}

func push(ctx context.Context, cfg pushConfig) (*pushResult, error) {
	p := &pusher{
		cfg: cfg,
		client: &http.Client{
			Timeout: cfg.timeout,
			Transport: &http.Transport{
				MaxIdleConnsPerHost: cfg.concurrency,
				DisableCompression:  true,
			},
		},
		errs: map[string]int{},
	}
	p.firstTS.Store(1<<63 - 1)
	sources := make([]string, len(cfg.files))
	for fi, path := range cfg.files {
		src, err := sniffSource(path)
		if err != nil {
			return nil, err
		}
		sources[fi] = src
		for h := range cfg.streams {
			env := "prod"
			if h%4 == 3 {
				env = "staging"
			}
			p.streams = append(p.streams, newStream([][2]string{
				{"app", cfg.app}, {"env", env}, {"host", fmt.Sprintf("web-%02d", h)}, {"source", src},
			}))
		}
	}

	before, err := procstat.Snapshot(cfg.serverPID)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	queues := make([]chan *batch, cfg.concurrency)
	pool := sync.Pool{New: func() any { return &batch{} }}
	var senders sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan *batch, 2)
		senders.Add(1)
		go func() {
			defer senders.Done()
			var body, scratch []byte
			for b := range queues[i] {
				body, scratch = p.send(ctx, b, body, scratch)
				b.entries, b.arena, b.ends, b.raw = b.entries[:0], b.arena[:0], b.ends[:0], 0
				pool.Put(b)
			}
		}()
	}
	done := make(chan struct{})
	go p.progress(done, start)

	var readers sync.WaitGroup
	readErrs := make([]error, len(cfg.files))
	for fi, path := range cfg.files {
		readers.Add(1)
		go func() {
			defer readers.Done()
			readErrs[fi] = p.read(ctx, path, sources[fi], fi*cfg.streams, queues, &pool)
			if readErrs[fi] != nil {
				cancel()
			}
		}()
	}
	readers.Wait()
	for _, q := range queues {
		close(q)
	}
	senders.Wait()
	close(done)
	wall := time.Since(start).Seconds()
	after, err := procstat.Snapshot(cfg.serverPID)
	if err != nil && cfg.serverPID > 0 {
		return nil, fmt.Errorf("server pid %d: %w", cfg.serverPID, err)
	}
	if err := errors.Join(readErrs...); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	use := after.Sub(before)
	res := &pushResult{
		URL: cfg.url, Format: cfg.format, Streams: len(p.streams), Concurrency: cfg.concurrency, Batch: cfg.batch,
		LinesSent: p.sent.Load(), LinesFailed: p.failed.Load(), RawBytes: p.raw.Load(), WireBytes: p.wire.Load(),
		Requests: p.requests.Load(), Retries: p.retries.Load(), FirstError: p.firstError,
		WallSeconds: wall, ServerCPU: use.Server, PusherCPU: use.Self, MachineBusy: use.Machine,
		FirstTSNS: p.firstTS.Load(), LastTSNS: p.lastTS.Load(),
	}
	if len(p.errs) > 0 {
		res.ErrorsByStatus = p.errs
	}
	if wall > 0 {
		res.LinesPerSecond = float64(res.LinesSent) / wall
		res.MBPerSecond = float64(res.RawBytes) / 1e6 / wall
		res.BackgroundCores = max(0, use.Machine-use.Server-use.Self) / wall
	}
	return res, nil
}

func (p *pusher) progress(done <-chan struct{}, start time.Time) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			s := time.Since(start).Seconds()
			fmt.Fprintf(os.Stderr, "loggen push: %.0fs: %d lines sent (%.0f/s), %d failed, %d retries\n",
				s, p.sent.Load(), float64(p.sent.Load())/s, p.failed.Load(), p.retries.Load())
		}
	}
}

// sniffSource tells JSON app logs from nginx access logs by the file's first byte.
func sniffSource(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b [1]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if b[0] == '{' {
		return "json", nil
	}
	return "nginx", nil
}

// streamOf returns the stream, of the file's streams, that line i goes to. A request id picks
// its stream by its FNV-1a hash, computed here rather than with hash/fnv, which would allocate a
// hasher for every line the pusher sends.
func (p *pusher) streamOf(line []byte, i int) int {
	if p.cfg.streamBy == "request" {
		if id := requestID(line); id != nil {
			h := uint32(2166136261)
			for _, c := range id {
				h = (h ^ uint32(c)) * 16777619
			}
			return int(h % uint32(p.cfg.streams))
		}
	}
	return i % p.cfg.streams
}

// requestID returns the value of a JSON line's "request_id" field, or nil.
func requestID(line []byte) []byte {
	const key = `"request_id":"`
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return nil
	}
	v := line[i+len(key):]
	if j := bytes.IndexByte(v, '"'); j >= 0 {
		return v[:j]
	}
	return nil
}

// read splits one file into per-sender batches. Line i goes to stream first + streamOf(line, i);
// a stream always goes to the same sender, so its lines arrive in file order.
func (p *pusher) read(ctx context.Context, path, source string, first int, queues []chan *batch, pool *sync.Pool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 4<<20)
	pending := make([]*batch, len(queues))
	var ts timeParser
	ts.source = source
	flush := func(q int) error {
		b := pending[q]
		pending[q] = nil
		if b == nil || len(b.entries) == 0 {
			return nil
		}
		// Lines point into the arena, which may have moved while it grew.
		off := 0
		for i, end := range b.ends {
			b.entries[i].line = b.arena[off:end:end]
			off = end
		}
		select {
		case queues[q] <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i := 0; ; i++ {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%s: line %d longer than 4 MiB", path, i+1)
		}
		if len(line) > 0 {
			raw := int64(len(line))
			line = bytes.TrimSuffix(line, []byte{'\n'})
			s := first + p.streamOf(line, i)
			q := s % len(queues)
			b := pending[q]
			if b == nil {
				b = pool.Get().(*batch)
				pending[q] = b
			}
			t := ts.parse(line)
			b.arena = append(b.arena, line...)
			b.ends = append(b.ends, len(b.arena))
			b.entries = append(b.entries, entry{stream: s, ts: t})
			b.raw += raw
			if len(b.entries) >= p.cfg.batch {
				if err := flush(q); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	for q := range pending {
		if err := flush(q); err != nil {
			return err
		}
	}
	return nil
}

// send posts one batch, retrying on 429, 5xx and transport errors, and returns its buffers.
func (p *pusher) send(ctx context.Context, b *batch, body, scratch []byte) ([]byte, []byte) {
	ctype := "application/x-protobuf"
	if p.cfg.format == "json" {
		ctype = "application/json"
		body = encodeJSON(body[:0], p.streams, b.entries)
	} else {
		body, scratch = encodeProto(body, scratch, p.streams, b.entries)
	}
	for _, e := range b.entries {
		for {
			cur := p.firstTS.Load()
			if e.ts >= cur || p.firstTS.CompareAndSwap(cur, e.ts) {
				break
			}
		}
		for {
			cur := p.lastTS.Load()
			if e.ts <= cur || p.lastTS.CompareAndSwap(cur, e.ts) {
				break
			}
		}
	}
	n := int64(len(b.entries))
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			p.failed.Add(n)
			return body, scratch
		}
		status, retryAfter, msg, err := p.post(ctx, body, ctype)
		p.requests.Add(1)
		p.wire.Add(int64(len(body)))
		if err == nil && status/100 == 2 {
			p.sent.Add(n)
			p.raw.Add(b.raw)
			return body, scratch
		}
		key := strconv.Itoa(status)
		if err != nil {
			key, msg = "transport", err.Error()
		}
		p.noteError(key, msg)
		retriable := err != nil || status == http.StatusTooManyRequests || status >= 500
		if !retriable || attempt >= p.cfg.maxRetries {
			p.failed.Add(n)
			return body, scratch
		}
		p.retries.Add(1)
		wait := backoff
		if retryAfter > 0 {
			wait = retryAfter
		}
		backoff = min(2*backoff, 5*time.Second)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
}

func (p *pusher) post(ctx context.Context, body []byte, ctype string) (status int, retryAfter time.Duration, msg string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, resp.Body)
	if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil {
			retryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			retryAfter = max(0, time.Until(t))
		}
		retryAfter = min(retryAfter, 30*time.Second)
	}
	return resp.StatusCode, retryAfter, string(bytes.TrimSpace(b)), nil
}

func (p *pusher) noteError(key, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs[key]++
	if p.firstError == "" {
		p.firstError = key + ": " + msg
	}
}

// timeParser reads a line's own timestamp: the "ts" field that leads a JSON app line, or the
// [time_local] of an nginx line. Timestamps within a file strictly increase: a line whose
// timestamp is not after the previous line's (nginx logs to the second, and a line may have
// none) gets the previous one plus 1 ns, as an agent stamping lines as it reads them would.
// Loki keeps one copy of identical lines with identical timestamps in a stream, so without
// this two identical health-check lines in the same second would count as one.
type timeParser struct {
	source   string
	lastText []byte
	lastTime int64 // parsed from lastText
	last     int64 // returned for the previous line
}

func (tp *timeParser) parse(line []byte) int64 {
	t := tp.parseText(line)
	if tp.last != 0 && t <= tp.last {
		t = tp.last + 1
	}
	tp.last = t
	return t
}

func (tp *timeParser) parseText(line []byte) int64 {
	var text []byte
	layout := time.RFC3339Nano
	if tp.source == "json" {
		const prefix = `{"ts":"`
		if bytes.HasPrefix(line, []byte(prefix)) {
			rest := line[len(prefix):]
			if i := bytes.IndexByte(rest, '"'); i > 0 {
				text = rest[:i]
			}
		}
	} else {
		layout = "02/Jan/2006:15:04:05 -0700"
		if i := bytes.IndexByte(line, '['); i >= 0 {
			if j := bytes.IndexByte(line[i:], ']'); j > 0 {
				text = line[i+1 : i+j]
			}
		}
	}
	if text == nil {
		return tp.last
	}
	if bytes.Equal(text, tp.lastText) {
		return tp.lastTime
	}
	t, err := time.Parse(layout, string(text))
	if err != nil {
		return tp.last
	}
	tp.lastText = append(tp.lastText[:0], text...)
	tp.lastTime = t.UnixNano()
	return tp.lastTime
}
