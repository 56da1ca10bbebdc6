package duckstore

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/mix"
)

// subset reports whether every key of sub is in keys.
func subset(sub, keys []uint64) bool {
	set := map[uint64]bool{}
	for _, k := range keys {
		set[k] = true
	}
	for _, k := range sub {
		if !set[k] {
			return false
		}
	}
	return true
}

func TestNeedleKeys(t *testing.T) {
	const id = "44557fabfdfb2c78d4ea9abb1eb7b22a"
	require.Empty(t, needleKeys(nil, "short words and 12345 numbers"), "runs under minRun are not indexed")
	require.NotEmpty(t, needleKeys(nil, id))
	for _, body := range []string{
		`{"request_id":"` + id + `","level":"info"}`,
		id,
		"prefix" + id + "suffix", // inside a longer run
		"a=" + id[:20] + id[20:] + " b=1",
	} {
		require.True(t, subset(needleKeys(nil, id), needleKeys(nil, body)), "keys of the needle in %q", body)
	}
	// A needle with punctuation: its long runs count, wherever they end.
	needle := `"request_id":"` + id[:24]
	body := `{"request_id":"` + id + `"}`
	require.NotEmpty(t, needleKeys(nil, needle))
	require.True(t, subset(needleKeys(nil, needle), needleKeys(nil, body)))
	// A different id does not share them all.
	require.False(t, subset(needleKeys(nil, id), needleKeys(nil, strings.Replace(body, "9abb", "9abc", 1))))
}

// FuzzNeedleKeys checks the property the index rests on: a body that
// contains a needle has every key of the needle.
func FuzzNeedleKeys(f *testing.F) {
	f.Add("x", "44557fabfdfb2c78d4ea9abb1eb7b22a", "y")
	f.Add(`{"id":"`, `"id":"0123456789abcdefXYZ`, `"}`)
	f.Add("", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaa")
	f.Fuzz(func(t *testing.T, prefix, needle, suffix string) {
		body := prefix + needle + suffix
		if got, want := needleKeys(nil, body), plainNeedleKeys(body); !slices.Equal(got, want) {
			t.Fatalf("needleKeys(%q) = %v, the plain scan gives %v", body, got, want)
		}
		if !subset(needleKeys(nil, needle), needleKeys(nil, body)) {
			t.Fatalf("body %q contains %q but lacks some of its keys", body, needle)
		}
		b := newBloom(needleKeys(nil, body))
		if !b.mayHaveAll(needleKeys(nil, needle)) {
			t.Fatalf("the filter of %q rules out %q", body, needle)
		}
	})
}

// plainNeedleKeys is needleKeys as a plain scan of every byte: the
// reference for its skipping scan.
func plainNeedleKeys(s string) []uint64 {
	var dst []uint64
	for i := 0; i < len(s); {
		if !alnum[s[i]] {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && alnum[s[j]] {
			j++
		}
		if j-i >= minRun {
			dst = runKeys(dst, s[i:j])
		}
		i = j
	}
	return dst
}

// TestNeedleKeysScan compares the skipping scan with the plain one on
// random text of runs of every length around minRun.
func TestNeedleKeysScan(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	const chars = "aZ09x-_ :\"\xff"
	for range 20000 {
		b := make([]byte, rnd.IntN(80))
		for i := range b {
			if rnd.IntN(20) == 0 {
				b[i] = chars[4+rnd.IntN(len(chars)-4)] // a separator, now and then
			} else {
				b[i] = chars[rnd.IntN(4)]
			}
		}
		require.Equal(t, plainNeedleKeys(string(b)), needleKeys(nil, string(b)), "%q", b)
	}
}

func TestBloom(t *testing.T) {
	keys := make([]uint64, 10000)
	for i := range keys {
		keys[i] = mix.Mix64(uint64(i))
	}
	b := newBloom(keys)
	require.True(t, b.mayHaveAll(keys), "no false negatives")
	fp := 0
	for i := range 10000 {
		if b.mayHaveAll([]uint64{mix.Mix64(uint64(1e9 + i))}) {
			fp++
		}
	}
	require.Less(t, fp, 2500, "false positives per key") // about 15% expected
	require.True(t, bloom(nil).mayHaveAll(keys), "a filter of unknown shape rules nothing out")
	require.True(t, bloom(make([]byte, 20)).mayHaveAll(keys))
}

var needleDay = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// TestNeedleIndex stores many blocks with a needle in one record, and
// checks that Select and Aggregate find exactly what a scan finds while
// skipping the other blocks, before and after a restart.
func TestNeedleIndex(t *testing.T) {
	old := blockRows
	blockRows = 500
	t.Cleanup(func() { blockRows = old })

	const needle = "7f3a9c0e5b2d4f6a8c1e3b5d7f9a2c4e"
	dir := t.TempDir()
	reg := prometheus.NewPedanticRegistry()
	open := func() *Store {
		s, err := Open(t.Context(), Options{Dir: dir, MemoryLimit: 128 << 20, Threads: 1, Registerer: reg})
		require.NoError(t, err)
		return s
	}
	s := open()
	const n = 10_250 // 20 full blocks and a partial one
	batch := make([]event.Record, 0, 250)
	for i := range n {
		id := fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15)
		switch i {
		case 3333:
			id = needle
		case 7777:
			id = "zz" + needle + "zz" // inside a longer run
		case n - 10:
			id = needle // in the partial block, saved at Close
		}
		batch = append(batch, event.Record{
			Kind: event.KindLog, Time: needleDay + int64(i), Labels: labels.FromStrings("app", "a"),
			Body: fmt.Sprintf(`{"level":"info","request_id":"%s","n":%d}`, id, i),
		})
		if len(batch) == cap(batch) {
			require.NoError(t, s.Append(t.Context(), batch))
			batch = batch[:0]
		}
	}
	find := func(s *Store, value string) []string {
		var got []string
		for r, err := range s.Select(t.Context(), eventstore.SelectParams{
			Selector: eventstore.Selector{Kind: event.KindLog, Start: math.MinInt64, End: math.MaxInt64,
				LineFilters: []eventstore.LineFilter{{Op: eventstore.LineContains, Value: value}}},
		}) {
			require.NoError(t, err)
			got = append(got, r.Body[strings.LastIndex(r.Body, ":")+1:len(r.Body)-1])
		}
		return got
	}
	skipped := func() float64 {
		return testutil.ToFloat64(s.metrics.needleBlocks.WithLabelValues("skipped"))
	}
	require.ElementsMatch(t, []string{"3333", "7777", fmt.Sprint(n - 10)}, find(s, needle))
	require.GreaterOrEqual(t, skipped(), 17.0, "most full blocks are ruled out")
	require.ElementsMatch(t, []string{"3333", fmt.Sprint(n - 10)}, find(s, `"request_id":"`+needle[:20]))
	require.Equal(t, []string{"7777"}, find(s, "zz"+needle))
	require.Len(t, find(s, "request_id"), n, "short needles read everything")

	agg, err := s.Aggregate(t.Context(), eventstore.AggregateParams{
		Selector: eventstore.Selector{Kind: event.KindLog, Start: needleDay, End: needleDay + n,
			LineFilters: []eventstore.LineFilter{{Op: eventstore.LineContains, Value: needle}}},
		Op: eventstore.AggCount, Step: n,
	})
	require.NoError(t, err)
	var total float64
	for _, sr := range agg {
		for _, p := range sr.Points {
			total += p.V
		}
	}
	require.Equal(t, 3.0, total)

	require.NoError(t, s.Close())
	s = open()
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	before := skipped()
	require.ElementsMatch(t, []string{"3333", "7777", fmt.Sprint(n - 10)}, find(s, needle))
	require.GreaterOrEqual(t, skipped()-before, 18.0, "the partial block was saved at Close too")
}

// BenchmarkNeedleKeys measures the key extraction of a JSON app log line
// and of an nginx access line, against the plain scan (go test -bench
// NeedleKeys -benchmem).
func BenchmarkNeedleKeys(b *testing.B) {
	lines := []string{
		`{"ts":"2026-11-22T09:11:42.118Z","level":"info","message":"request completed","request_id":"44557fabfdfb2c78d4ea9abb1eb7b22a","user_id":"u-18211","ip":"10.42.7.19","method":"GET","path":"/api/v1/products/8812","status":200,"duration_ms":14.2}`,
		`10.42.7.19 - - [22/Nov/2026:09:11:42 +0000] "GET /api/v1/products/8812 HTTP/1.1" 200 5123 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"`,
	}
	bytes := int64(len(lines[0]) + len(lines[1]))
	b.Run("skipping", func(b *testing.B) {
		b.SetBytes(bytes)
		var dst []uint64
		for b.Loop() {
			dst = needleKeys(needleKeys(dst[:0], lines[0]), lines[1])
		}
	})
	b.Run("plain", func(b *testing.B) {
		b.SetBytes(bytes)
		for b.Loop() {
			_ = plainNeedleKeys(lines[0])
			_ = plainNeedleKeys(lines[1])
		}
	})
}
