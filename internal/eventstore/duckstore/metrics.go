package duckstore

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's Prometheus metrics.
type metrics struct {
	reg              prometheus.Registerer
	collectors       []prometheus.Collector
	appendedRecords  prometheus.Counter
	appendedBytes    prometheus.Counter
	appendedBatches  prometheus.Counter
	appendCommits    prometheus.Counter
	appendDuration   prometheus.Histogram
	queryDuration    *prometheus.HistogramVec
	retentionDeleted prometheus.Counter
	needleBlocks     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, s *Store) (*metrics, error) {
	m := &metrics{
		reg: reg,
		appendedRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lookout_eventstore_appended_records_total",
			Help: "Records durably appended to the event store.",
		}),
		appendedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lookout_eventstore_appended_bytes_total",
			Help: "Body bytes durably appended to the event store.",
		}),
		appendedBatches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lookout_eventstore_appended_batches_total",
			Help: "Batches durably appended to the event store.",
		}),
		appendCommits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lookout_eventstore_group_commits_total",
			Help: "Group commits: each appends the batches waiting at that moment; batches ÷ commits is the batches per commit.",
		}),
		appendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                        "lookout_eventstore_append_duration_seconds",
			Help:                        "Time to append and commit one group of batches.",
			Buckets:                     prometheus.DefBuckets,
			NativeHistogramBucketFactor: 1.1,
		}),
		queryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        "lookout_eventstore_query_duration_seconds",
			Help:                        "Time to answer a query, by operation; for select, until the iteration ends.",
			Buckets:                     prometheus.DefBuckets,
			NativeHistogramBucketFactor: 1.1,
		}, []string{"op"}),
		retentionDeleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lookout_eventstore_retention_deleted_records_total",
			Help: "Records deleted by retention.",
		}),
		needleBlocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_eventstore_needle_index_blocks_total",
			Help: "Blocks of records the needle index was asked about for a line filter, by result: skipped (ruled out) or read.",
		}, []string{"result"}),
	}
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lookout_eventstore_size_bytes",
		Help: "Size of the event store's files on disk.",
	}, func() float64 { return float64(s.Size()) })
	partitions := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "lookout_eventstore_partitions",
		Help: "Live day partitions of the event store.",
	}, func() float64 {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return float64(len(s.parts))
	})
	m.collectors = []prometheus.Collector{m.appendedRecords, m.appendedBytes, m.appendedBatches, m.appendCommits, m.appendDuration, m.queryDuration, m.retentionDeleted, m.needleBlocks, size, partitions}
	if reg == nil {
		return m, nil
	}
	for i, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			for _, r := range m.collectors[:i] {
				reg.Unregister(r)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// unregister removes the metrics, so that a store reopened with the same
// registerer can register again.
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
