package duckstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/mix"
)

// Needle index: a Bloom filter per block of consecutive records that lets
// a search for a long identifier (`|= "<request id>"`, a trace id, a UUID)
// skip the blocks that cannot contain it, so that DuckDB reads only the
// row groups of the rest.
//
// What is indexed: in each body, every maximal run of ASCII letters and
// digits at least minRun bytes long; from each run, the minimizers of its
// k-grams (for each window of w consecutive k-grams, the smallest hash).
// Runs this long are identifiers, hashes and tokens, a few per line, so
// indexing costs little; words and numbers are shorter and are skipped.
//
// Why it is exact for contains(): a needle that holds a run of letters and
// digits at least minRun long matches a body only where that run lies
// inside one run of the body, which is then also at least minRun long and
// indexed. Every window of w k-grams inside the needle's run is a window of
// the body's run, with the same smallest hash. So a body containing the
// needle has all the needle's minimizers, and a block whose filter lacks
// one of them holds no match. A filter says "maybe" falsely with a small
// probability per key, and a block is read only if every key says maybe.
const (
	minRun = 16
	kgram  = 8
	window = 8 // minRun ≥ window + kgram - 1, so every indexed run has a window

	// bloomBitsPerKey at bloomProbes probes gives about 15% false
	// positives per key; with the several keys of a long needle all
	// required, about 1e-4 per block.
	bloomBitsPerKey = 4
	bloomProbes     = 3
)

// blockRows records share one filter. DuckDB skips row groups (122,880
// rows) by their min/max of seq, and within a row group reads the bodies
// only of the vectors that pass the seq condition, so blocks smaller than
// a row group still save reading bodies. A variable so that tests can use
// small blocks.
var blockRows = 16384

var alnum = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	return t
}()

// needleKeys appends the keys of the runs of s to dst: for a body, the
// keys to add to its block's filter; for a needle, the keys every body
// containing it has. Consecutive equal keys are appended once.
func needleKeys(dst []uint64, s string) []uint64 {
	// Only runs of at least minRun letters and digits count, so the scan
	// looks at the last byte of the minRun-byte window starting at i
	// first: when it is not a letter or digit, no run can start before
	// it. Otherwise it walks back to the window's last separator. Most
	// words are shorter than minRun, so most bytes are never looked at.
	i := 0
	for i+minRun <= len(s) {
		k := i + minRun - 1
		for k >= i && alnum[s[k]] {
			k--
		}
		if k >= i {
			i = k + 1 // s[k] is a separator: a run starts after it, if anywhere
			continue
		}
		j := i + minRun
		for j < len(s) && alnum[s[j]] {
			j++
		}
		dst = runKeys(dst, s[i:j])
		i = j + 1 // s[j] is a separator or the end
	}
	return dst
}

func runKeys(dst []uint64, run string) []uint64 {
	var (
		ring [window]uint64
		last uint64
		have bool
	)
	for i := 0; i+kgram <= len(run); i++ {
		g := run[i : i+kgram]
		ring[i%window] = mix.Mix64(uint64(g[0]) | uint64(g[1])<<8 | uint64(g[2])<<16 | uint64(g[3])<<24 |
			uint64(g[4])<<32 | uint64(g[5])<<40 | uint64(g[6])<<48 | uint64(g[7])<<56)
		if i+1 < window {
			continue
		}
		m := ring[0]
		for _, h := range ring[1:] {
			m = min(m, h)
		}
		if !have || m != last {
			dst = append(dst, m)
			last, have = m, true
		}
	}
	return dst
}

// bloom is a Bloom filter over keys, stored as its bit array (a multiple
// of 64 bits, little-endian 64-bit words).
type bloom []byte

// newBloom builds the filter of keys. It is sized for len(keys) without
// removing duplicates first: sorting them cost more than the space a
// repeated key wastes, and long runs (identifiers) rarely repeat.
func newBloom(keys []uint64) bloom {
	nbits := max((uint64(len(keys))*bloomBitsPerKey+63)/64*64, 64)
	words := make([]uint64, nbits/64)
	for _, k := range keys {
		h1, h2 := k, bits.RotateLeft64(k, 32)|1
		for p := range uint64(bloomProbes) {
			bit := bloomBit(h1+p*h2, nbits)
			words[bit/64] |= 1 << (bit % 64)
		}
	}
	b := make(bloom, len(words)*8)
	for i, w := range words {
		binary.LittleEndian.PutUint64(b[i*8:], w)
	}
	return b
}

// mayHaveAll reports whether every key may be in the filter. A filter of
// an unexpected shape answers true.
func (b bloom) mayHaveAll(keys []uint64) bool {
	nbits := uint64(len(b)) * 8
	if nbits < 64 || nbits%64 != 0 {
		return true
	}
	for _, k := range keys {
		h1, h2 := k, bits.RotateLeft64(k, 32)|1
		for p := range uint64(bloomProbes) {
			bit := bloomBit(h1+p*h2, nbits)
			if b[bit/8]&(1<<(bit%8)) == 0 {
				return false
			}
		}
	}
	return true
}

// blockBuilder collects the keys of the records of a partition's kind
// appended since its last filter.
type blockBuilder struct {
	first, next uint64 // seqs of the block's first record, and one past its last
	rows        int
	keys        []uint64
	// contiguous: the previous block of this builder ended at seq
	// prevNext-1 and every record of the table since then is in this
	// block, so the new block's range may start at prevNext. Ranges that
	// touch merge into fewer conditions in queries.
	contiguous bool
	prevNext   uint64
}

// add records that the record with sequence number seq has the given body.
func (b *blockBuilder) add(seq uint64, body string) {
	if b.rows == 0 {
		b.first = seq
	}
	b.next = seq + 1
	b.rows++
	b.keys = needleKeys(b.keys, body)
}

// full reports whether the block should be closed into a filter.
func (b *blockBuilder) full() bool { return b.rows >= blockRows }

// span is the inclusive seq range the block's filter covers.
func (b *blockBuilder) span() (uint64, uint64) {
	lo := b.first
	if b.contiguous {
		lo = b.prevNext
	}
	return lo, b.next - 1
}

// closeBlock starts the next block once the filter is committed.
func (b *blockBuilder) closeBlock() {
	b.prevNext, b.contiguous = b.next, true
	b.reset()
}

// reset forgets the block's records.
func (b *blockBuilder) reset() {
	b.rows = 0
	b.keys = b.keys[:0]
}

// seqRange is an inclusive range of sequence numbers.
type seqRange struct{ lo, hi uint64 }

// bloomBit maps a hash onto [0, nbits) by multiplying (Lemire's fast
// range), which needs no power-of-two size.
func bloomBit(h, nbits uint64) uint64 {
	hi, _ := bits.Mul64(h, nbits)
	return hi
}

// lineKeys returns the key sets of the contains filters among lines that
// the index can answer.
func lineKeys(lines []eventstore.LineFilter) [][]uint64 {
	var out [][]uint64
	for _, lf := range lines {
		if lf.Op != eventstore.LineContains {
			continue
		}
		if keys := needleKeys(nil, lf.Value); len(keys) > 0 {
			out = append(out, keys)
		}
	}
	return out
}

// pruneNeedles sets each scan's skip to the blocks whose filters rule out
// one of the contains filters among lines.
func (s *Store) pruneNeedles(ctx context.Context, scans []*scan, lines []eventstore.LineFilter) error {
	needles := lineKeys(lines)
	if len(needles) == 0 {
		return nil
	}
	for _, sc := range scans {
		var skip []seqRange
		var q query
		q.sql("SELECT seq_lo, seq_hi, bloom FROM ", quoteIdent(sc.p.alias), ".blooms WHERE kind = ").int(int64(sc.kind))
		err := s.queryRows(ctx, "needle index", &q, func(rows *sql.Rows) error {
			var (
				r seqRange
				b []byte
			)
			if err := rows.Scan(&r.lo, &r.hi, &b); err != nil {
				return err
			}
			for _, keys := range needles {
				if !bloom(b).mayHaveAll(keys) {
					skip = append(skip, r)
					s.metrics.needleBlocks.WithLabelValues("skipped").Inc()
					return nil
				}
			}
			s.metrics.needleBlocks.WithLabelValues("read").Inc()
			return nil
		})
		if err != nil {
			return err
		}
		sc.skip = mergeRanges(skip)
	}
	return nil
}

// mergeRanges sorts ranges and joins those that touch or overlap.
func mergeRanges(rs []seqRange) []seqRange {
	slices.SortFunc(rs, func(a, b seqRange) int { return cmp.Compare(a.lo, b.lo) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	return out
}
