package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Files written by gen, in the order push sends them.
const (
	appFile   = "app.log"
	nginxFile = "nginx.log"
)

type genFile struct {
	Path   string `json:"path"`
	Source string `json:"source"` // json or nginx: the source label push gives its streams
	Lines  int    `json:"lines"`
	Bytes  int64  `json:"bytes"`
}

type genResult struct {
	Seed         uint64    `json:"seed"`
	Lines        int       `json:"lines"`
	Bytes        int64     `json:"bytes"`
	Files        []genFile `json:"files"`
	StartNS      int64     `json:"start_ns"`
	EndNS        int64     `json:"end_ns"`
	Model        string    `json:"model"`
	Needle       string    `json:"needle"`         // a request_id: it is on NeedleLines lines of app.log and nowhere else
	NeedleLines  int       `json:"needle_lines"`   // how many
	NeedleLine   int       `json:"needle_line"`    // the 1-based line number in app.log of its first line
	NeedleTimeNS int64     `json:"needle_time_ns"` // and that line's timestamp
	Seconds      float64   `json:"seconds"`
}

func runGen(ctx context.Context, args []string) error {
	fs := newFlagSet("gen")
	dir := fs.String("dir", ".", "directory for app.log and nginx.log")
	lines := fs.Int("lines", 10_000_000, "lines in total over both files")
	nginxShare := fs.Float64("nginx-share", 0.3, "share of the lines that are nginx access lines")
	seed := fs.Uint64("seed", 1, "seed: the same seed, -lines and -end give byte-identical files")
	endFlag := fs.String("end", "", "timestamp of the last line, RFC 3339 (default: now, to the second)")
	window := fs.Duration("window", 2*time.Hour, "the lines' timestamps spread evenly over this window ending at -end")
	model := fs.String("model", modelRequests, "requests: each request logs several app lines sharing its id, from clients with a fixed address, browser and user; "+
		"lines: every line an independent request (the generator before requests, kept to reproduce older results)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lines < 1 || *nginxShare < 0 || *nginxShare >= 1 || *window <= 0 {
		return errors.New("want -lines ≥ 1, 0 ≤ -nginx-share < 1 and -window > 0")
	}
	if *model != modelRequests && *model != modelLines {
		return fmt.Errorf("-model: want %s or %s, not %q", modelRequests, modelLines, *model)
	}
	end := time.Now().UTC().Truncate(time.Second)
	if *endFlag != "" {
		t, err := time.Parse(time.RFC3339, *endFlag)
		if err != nil {
			return fmt.Errorf("-end: %w", err)
		}
		end = t.UTC()
	}
	t0 := time.Now()
	nNginx := int(math.Round(float64(*lines) * *nginxShare))
	nApp := *lines - nNginx
	start := end.Add(-*window)
	res := genResult{Seed: *seed, Model: *model, Lines: *lines, StartNS: start.UnixNano(), EndNS: end.UnixNano()}

	g := newGenerator(*seed)
	appLine, nginxLine := g.appLine, g.nginxLine
	if *model == modelRequests {
		appLine, nginxLine = g.requestAppLine, g.requestNginxLine
	}
	needleAt := nApp * 37 / 100
	app, err := writeLines(ctx, filepath.Join(*dir, appFile), "json", nApp, start, *window, func(b []byte, i int, ts time.Time) []byte {
		b, id, first := appLine(b, ts)
		switch {
		case i >= needleAt && res.Needle == "" && first:
			res.Needle, res.NeedleLines, res.NeedleLine, res.NeedleTimeNS = id, 1, i+1, ts.UnixNano()
		case res.Needle != "" && id == res.Needle:
			res.NeedleLines++
		}
		return b
	})
	if err != nil {
		return err
	}
	res.Files = append(res.Files, app)
	if nNginx > 0 {
		ng, err := writeLines(ctx, filepath.Join(*dir, nginxFile), "nginx", nNginx, start, *window, func(b []byte, _ int, ts time.Time) []byte {
			return nginxLine(b, ts)
		})
		if err != nil {
			return err
		}
		res.Files = append(res.Files, ng)
	}
	for _, f := range res.Files {
		res.Bytes += f.Bytes
	}
	res.Seconds = time.Since(t0).Seconds()
	return emit(res)
}

// writeLines writes n lines to path, line i stamped start + i·window/n, and returns the file's
// description.
func writeLines(ctx context.Context, path, source string, n int, start time.Time, window time.Duration,
	line func(b []byte, i int, ts time.Time) []byte) (genFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return genFile{}, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	step := float64(window) / float64(n)
	var buf []byte
	var size int64
	for i := range n {
		if i%100_000 == 0 && ctx.Err() != nil {
			return genFile{}, ctx.Err()
		}
		ts := start.Add(time.Duration(float64(i+1) * step))
		buf = append(line(buf[:0], i, ts), '\n')
		size += int64(len(buf))
		if _, err := w.Write(buf); err != nil {
			return genFile{}, err
		}
	}
	if err := w.Flush(); err != nil {
		return genFile{}, err
	}
	return genFile{Path: path, Source: source, Lines: n, Bytes: size}, f.Close()
}

// route is one endpoint of the simulated shop: requests pick one by weight.
type route struct {
	method, path string // path may hold {id}, {q} or {asset}
	weight       float64
	fast         bool // health checks and metrics: sub-millisecond to a few ms
	static       bool
}

var routes = []route{
	{"GET", "/api/v1/products", 12, false, false},
	{"GET", "/api/v1/products/{id}", 18, false, false},
	{"GET", "/api/v1/search?q={q}", 9, false, false},
	{"GET", "/api/v1/cart", 7, false, false},
	{"POST", "/api/v1/cart/items", 4, false, false},
	{"DELETE", "/api/v1/cart/items/{id}", 1, false, false},
	{"GET", "/api/v1/orders", 4, false, false},
	{"POST", "/api/v1/orders", 2, false, false},
	{"GET", "/api/v1/orders/{id}", 5, false, false},
	{"PATCH", "/api/v1/orders/{id}", 0.6, false, false},
	{"GET", "/api/v1/users/{id}", 5, false, false},
	{"PUT", "/api/v1/users/{id}", 0.8, false, false},
	{"POST", "/api/v1/checkout", 1.5, false, false},
	{"POST", "/api/v1/login", 2.5, false, false},
	{"GET", "/healthz", 8, true, false},
	{"GET", "/metrics", 3, true, false},
	{"GET", "/static/js/app.{asset}.js", 5, false, true},
	{"GET", "/static/css/main.{asset}.css", 3, false, true},
	{"GET", "/images/products/{id}.webp", 8, false, true},
}

var (
	searchWords = []string{"shoes", "red+dress", "laptop", "usb-c+cable", "coffee", "headphones", "desk+lamp", "backpack", "tent", "yoga+mat", "phone+case", "sunglasses"}
	assets      = []string{"3f9a2c1d", "8b41e0aa", "c07d5e92"}
	userAgents  = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
		"curl/8.5.0",
		"kube-probe/1.31",
		"Prometheus/3.1.0",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	}
	referers = []string{"-", "-", "-", "https://shop.example.com/", "https://shop.example.com/cart", "https://www.google.com/", "https://shop.example.com/search"}

	infoMessages  = []string{"request completed", "request completed", "request completed", "cache hit", "cache miss, loaded from database", "session refreshed", "feature flag evaluated"}
	debugMessages = []string{"query plan cached", "connection reused from pool", "token validated"}
	warnMessages  = map[int][]string{
		400: {"invalid request body", "validation failed"},
		401: {"missing or expired token"},
		403: {"permission denied"},
		404: {"resource not found"},
		429: {"rate limit exceeded"},
	}
	slowMessages  = []string{"slow request", "slow database query", "retrying upstream call"}
	errorMessages = map[int][]string{
		500: {"unhandled exception in handler", "database connection reset", "nil pointer dereference recovered"},
		502: {"upstream returned invalid response", "payment provider returned 502"},
		503: {"service unavailable: circuit breaker open"},
		504: {"upstream timeout", "context deadline exceeded"},
	}
)

// statusTable: status codes of successful routes and their weights (per mille).
var statusTable = []struct {
	code   int
	weight float64
}{
	{200, 930}, {400, 12}, {401, 8}, {403, 3}, {404, 25}, {429, 5}, {500, 8}, {502, 4}, {503, 3}, {504, 2},
}

type generator struct {
	app, nginx *rand.Rand
	appPick    picker
	routePick  picker
	status     picker
	users      *rand.Zipf
	ids        *rand.Zipf
	ipsApp     *rand.Zipf
	ipsNginx   *rand.Zipf
	ips        []string

	// The requests model.
	clients      []client
	probes       []client
	clientsApp   *rand.Zipf
	clientsNginx *rand.Zipf
	inflight     []*request

	path []byte // scratch for the lines model's paths
}

func newGenerator(seed uint64) *generator {
	g := &generator{
		app:   rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		nginx: rand.New(rand.NewPCG(seed, 0xbf58476d1ce4e5b9)),
	}
	pool := rand.New(rand.NewPCG(seed, 0x94d049bb133111eb))
	g.ips = make([]string, 20_000)
	for i := range g.ips {
		switch {
		case i%10 < 6:
			g.ips[i] = fmt.Sprintf("%d.%d.%d.%d", 23+pool.IntN(180), pool.IntN(256), pool.IntN(256), 1+pool.IntN(254))
		case i%10 < 9:
			g.ips[i] = fmt.Sprintf("10.%d.%d.%d", pool.IntN(32), pool.IntN(256), 1+pool.IntN(254))
		default:
			g.ips[i] = fmt.Sprintf("2001:db8:%x:%x::%x", pool.IntN(65536), pool.IntN(65536), 1+pool.IntN(65535))
		}
	}
	w := make([]float64, len(routes))
	for i, r := range routes {
		w[i] = r.weight
	}
	g.routePick = newPicker(w)
	sw := make([]float64, len(statusTable))
	for i, s := range statusTable {
		sw[i] = s.weight
	}
	g.status = newPicker(sw)
	g.users = rand.NewZipf(g.app, 1.1, 3, 199_999)
	g.ids = rand.NewZipf(g.app, 1.05, 10, 999_999)
	g.ipsApp = rand.NewZipf(g.app, 1.2, 5, uint64(len(g.ips)-1))
	g.ipsNginx = rand.NewZipf(g.nginx, 1.2, 5, uint64(len(g.ips)-1))

	// Clients: an address drawn as the lines model draws them (so that some share one, as
	// behind a NAT), a browser, and a user.
	uaPick := newPicker([]float64{15, 15, 15, 15, 15, 15, 3, 0, 0, 2})
	users := rand.NewZipf(pool, 1.1, 3, 199_999)
	ips := rand.NewZipf(pool, 1.2, 5, uint64(len(g.ips)-1))
	g.clients = make([]client, 50_000)
	for i := range g.clients {
		g.clients[i] = client{ip: g.ips[ips.Uint64()], ua: userAgents[uaPick.pick(pool)], user: 10000 + users.Uint64()}
	}
	// Health checks and scrapes come from a few cluster addresses (the lines model's
	// addresses 6 to 8 are 10.x ones), as the service account u_10000.
	g.probes = []client{
		{ip: g.ips[6], ua: userAgents[7], user: 10000},
		{ip: g.ips[7], ua: userAgents[7], user: 10000},
		{ip: g.ips[8], ua: userAgents[8], user: 10000},
	}
	g.clientsApp = rand.NewZipf(g.app, 1.1, 3, uint64(len(g.clients)-1))
	g.clientsNginx = rand.NewZipf(g.nginx, 1.1, 3, uint64(len(g.clients)-1))
	g.inflight = make([]*request, concurrentRequests)
	return g
}

// picker draws an index with probability proportional to its weight.
type picker []float64 // cumulative weights

func newPicker(w []float64) picker {
	p := make(picker, len(w))
	var sum float64
	for i, x := range w {
		sum += x
		p[i] = sum
	}
	return p
}

func (p picker) pick(r *rand.Rand) int {
	x := r.Float64() * p[len(p)-1]
	for i, c := range p {
		if x < c {
			return i
		}
	}
	return len(p) - 1
}

// request draws one simulated request: route, status and duration.
func (g *generator) request(r *rand.Rand) (rt route, status int, durMS float64) {
	rt = routes[g.routePick.pick(r)]
	status = statusTable[g.status.pick(r)].code
	switch {
	case rt.fast:
		status = 200
		durMS = math.Exp(math.Log(0.8) + 0.5*r.NormFloat64())
	case rt.static:
		if status >= 400 && status != 404 {
			status = 200
		}
		if status == 200 && r.IntN(3) == 0 {
			status = 304
		}
		durMS = math.Exp(math.Log(2.5) + 0.7*r.NormFloat64())
	default:
		durMS = math.Exp(math.Log(22) + 0.9*r.NormFloat64())
		if status == 200 {
			switch rt.method {
			case "POST":
				status = 201
			case "DELETE":
				status = 204
			}
		}
		if status == 504 {
			durMS = 30000 + 50*r.Float64()
		}
	}
	return rt, status, durMS
}

// appendPath writes rt's path with its placeholders filled.
func (g *generator) appendPath(b []byte, rt route, r *rand.Rand) []byte {
	p := rt.path
	for len(p) > 0 {
		i := indexByte(p, '{')
		if i < 0 {
			return append(b, p...)
		}
		b = append(b, p[:i]...)
		j := indexByte(p[i:], '}') + i
		switch p[i+1 : j] {
		case "id":
			b = strconv.AppendUint(b, 1000+g.ids.Uint64(), 10)
		case "q":
			b = append(b, searchWords[r.IntN(len(searchWords))]...)
		case "asset":
			b = append(b, assets[r.IntN(len(assets))]...)
		}
		p = p[j+1:]
	}
	return b
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// appLine appends one JSON application log line, an independent request, and returns it with
// its request_id.
func (g *generator) appLine(b []byte, ts time.Time) ([]byte, string, bool) {
	r := g.app
	rt, status, dur := g.request(r)
	id := randomID(r)
	level, msg := "info", infoMessages[r.IntN(len(infoMessages))]
	if l, m, ok := outcome(r, status, dur); ok {
		level, msg = l, m
	} else if r.IntN(100) < 4 {
		level, msg = "debug", debugMessages[r.IntN(len(debugMessages))]
	}
	user := 10000 + g.users.Uint64()
	ip := g.ips[g.ipsApp.Uint64()]
	g.path = g.appendPath(g.path[:0], rt, r)
	return appendAppLine(b, ts, level, msg, id, user, ip, rt.method, g.path, status, dur), id, true
}

// outcome returns the level and message of a request's last line when its status or duration
// calls for one: an error, a client error, or a slow request.
func outcome(r *rand.Rand, status int, dur float64) (level, msg string, ok bool) {
	switch {
	case status >= 500:
		m := errorMessages[status]
		return "error", m[r.IntN(len(m))], true
	case status >= 400:
		m := warnMessages[status]
		return "warn", m[r.IntN(len(m))], true
	case dur > 800:
		return "warn", slowMessages[r.IntN(len(slowMessages))], true
	}
	return "", "", false
}

// appendAppLine appends a JSON app line with the fields of the seeds' services; status 0 leaves
// out status and duration, as on the lines a request logs before it completes.
func appendAppLine(b []byte, ts time.Time, level, msg, id string, user uint64, ip, method string, path []byte, status int, dur float64) []byte {
	b = append(b, `{"ts":"`...)
	b = ts.AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, `","level":"`...)
	b = append(b, level...)
	b = append(b, `","message":"`...)
	b = append(b, msg...)
	b = append(b, `","request_id":"`...)
	b = append(b, id...)
	b = append(b, `","user_id":"u_`...)
	b = strconv.AppendUint(b, user, 10)
	b = append(b, `","ip":"`...)
	b = append(b, ip...)
	b = append(b, `","method":"`...)
	b = append(b, method...)
	b = append(b, `","path":"`...)
	b = append(b, path...)
	if status == 0 {
		return append(b, `"}`...)
	}
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, math.Round(dur*100)/100, 'f', -1, 64)
	return append(b, '}')
}

// randomID draws a request id: 16 random bytes in hex.
func randomID(r *rand.Rand) string {
	var id [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			id[i+k] = byte(v >> (8 * k))
		}
	}
	return hex.EncodeToString(id[:])
}

// nginxLine appends one access line in nginx's "combined" format, an independent request.
func (g *generator) nginxLine(b []byte, ts time.Time) []byte {
	r := g.nginx
	rt, status, _ := g.request(r)
	ip := g.ips[g.ipsNginx.Uint64()]
	user := uint64(0)
	if r.IntN(50) == 0 {
		user = uint64(10000 + r.IntN(5000))
	}
	return g.appendCombined(b, r, ts, rt, status, ip, "", user)
}

// appendCombined appends an access line in nginx's "combined" format; user 0 is "-". An empty
// ua draws one from all the user agents (probe agents for health checks and scrapes).
func (g *generator) appendCombined(b []byte, r *rand.Rand, ts time.Time, rt route, status int, ip, ua string, user uint64) []byte {
	b = append(b, ip...)
	b = append(b, " - "...)
	if user != 0 {
		b = append(b, "u_"...)
		b = strconv.AppendUint(b, user, 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, " ["...)
	b = ts.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, rt.method...)
	b = append(b, ' ')
	b = g.appendPath(b, rt, r)
	if r.IntN(4) == 0 {
		b = append(b, " HTTP/2.0\" "...)
	} else {
		b = append(b, " HTTP/1.1\" "...)
	}
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	var size float64
	switch {
	case status == 304 || status == 204:
	case rt.static:
		size = math.Exp(math.Log(40_000) + 1.0*r.NormFloat64())
	case rt.fast:
		size = float64(2 + r.IntN(3000))
	case status >= 400:
		size = float64(150 + r.IntN(400))
	default:
		size = math.Exp(math.Log(1800) + 0.8*r.NormFloat64())
	}
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, " \""...)
	b = append(b, referers[r.IntN(len(referers))]...)
	b = append(b, "\" \""...)
	if ua == "" {
		ua = userAgents[r.IntN(len(userAgents))]
		if rt.fast {
			ua = userAgents[7+r.IntN(2)]
		}
	}
	b = append(b, ua...)
	return append(b, '"')
}

// Generator models.
const (
	modelRequests = "requests"
	modelLines    = "lines"
)

// concurrentRequests is how many requests the app serves at once in the requests model: their
// lines interleave in app.log.
const concurrentRequests = 16

// client is a visitor of the simulated shop: one address, one browser and one user for all its
// requests.
type client struct {
	ip, ua string
	user   uint64
}

// request is one request in flight in the requests model. Every line it logs carries its id,
// user, address, method and path, as a structlog logger bound in a middleware does; only the
// completion line carries status and duration.
type request struct {
	id     string
	c      *client
	rt     route
	path   []byte
	status int
	dur    float64
	left   int // lines still to log before the completion line
}

// progressInfo and progressDebug are what a request logs before it completes.
var (
	progressInfo  = []string{"cache hit", "cache miss, loaded from database", "session refreshed", "feature flag evaluated", "request started"}
	progressDebug = []string{"query plan cached", "connection reused from pool", "token validated"}
)

// pickClient draws who sends a request: a probe for health checks and scrapes, else a client by
// its Zipf weight.
func (g *generator) pickClient(r *rand.Rand, z *rand.Zipf, rt route) *client {
	if rt.fast {
		return &g.probes[r.IntN(len(g.probes))]
	}
	return &g.clients[z.Uint64()]
}

// newRequest draws a request in the app's model and how many lines it logs before its
// completion line: none for static files and probes, 1.2 on average for API requests.
func (g *generator) newRequest() *request {
	r := g.app
	rt, status, dur := g.request(r)
	q := &request{c: g.pickClient(r, g.clientsApp, rt), rt: rt, status: status, dur: dur}
	q.id = randomID(r)
	q.path = g.appendPath(nil, rt, r)
	if !rt.fast && !rt.static {
		for q.left < 6 && r.IntN(100) < 55 {
			q.left++
		}
	}
	return q
}

// requestAppLine appends the next line of one of the requests in flight and returns it with
// the request's id, and whether it is the request's first line.
func (g *generator) requestAppLine(b []byte, ts time.Time) ([]byte, string, bool) {
	r := g.app
	slot := r.IntN(len(g.inflight))
	q := g.inflight[slot]
	first := q == nil
	if first {
		q = g.newRequest()
		g.inflight[slot] = q
	}
	level, msg, status := "info", "request completed", q.status
	if q.left == 0 {
		g.inflight[slot] = nil
		if l, m, ok := outcome(r, q.status, q.dur); ok {
			level, msg = l, m
		}
	} else {
		q.left--
		status = 0
		level, msg = "info", progressInfo[r.IntN(len(progressInfo))]
		if r.IntN(100) < 12 {
			level, msg = "debug", progressDebug[r.IntN(len(progressDebug))]
		}
	}
	b = appendAppLine(b, ts, level, msg, q.id, q.c.user, q.c.ip, q.rt.method, q.path, status, q.dur)
	return b, q.id, first
}

// requestNginxLine appends one access line in nginx's "combined" format for a request from one
// of the clients.
func (g *generator) requestNginxLine(b []byte, ts time.Time) []byte {
	r := g.nginx
	rt, status, _ := g.request(r)
	c := g.pickClient(r, g.clientsNginx, rt)
	user := uint64(0) // $remote_user: only the few clients of a basic-auth area
	if r.IntN(50) == 0 {
		user = c.user
	}
	return g.appendCombined(b, r, ts, rt, status, c.ip, c.ua, user)
}
