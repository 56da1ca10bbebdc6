// Package duckstore is the embedded eventstore.Store: records in DuckDB's
// compressed columnar format, one database file per UTC day.
//
// # Layout
//
// Dir holds one DuckDB file per day of record time, named
// YYYYMMDD-GEN.duckdb (GEN tells apart a day dropped and written again),
// each with a WAL beside it while it has commits not yet checkpointed. The
// files are attached to one in-memory DuckDB instance, whose memory_limit
// and threads come from Options; queries that outgrow the limit spill to
// Dir/tmp. A partition file holds:
//
//   - streams: a partition-local stream_id (UINTEGER), the kind, the label
//     set as a JSON object, and bounds on the stream's timestamps in the
//     partition, widened to whole hours so that a busy stream updates its
//     row once an hour rather than once per batch (the store keeps the
//     exact bounds in memory while it runs);
//   - levels: the distinct levels per kind;
//   - one records table per kind (log, span, error, rum): ts, seq,
//     stream_id, level, body, trace_id, span_id, attrs (a JSON array of
//     [key, value] pairs, "" when empty);
//   - blooms: the needle index, a Bloom filter per block of 16,384
//     consecutive records of a kind, by inclusive seq range.
//
// Partitions are written in DuckDB's v1.4.0 storage format, not the
// v0.10.2 format DuckDB writes by default, for its newer string
// compression. DuckDB picks each column's compression when it checkpoints
// a row group: bit-packing for ts and seq, RLE for stream_id, DICT_FSST for
// level, ids and attrs; bodies are declared ZSTD, which stores JSON and
// access logs in about half the space FSST needs. A partition checkpoints
// once its WAL passes a quarter of the memory limit (16 to 256 MiB).
//
// # Queries
//
// The streams and levels tables are loaded into memory at Open. Stream and
// level matchers run in Go against them and reach SQL as
// "stream_id IN (...)" and "level IN (...)"; partitions outside the time
// range, or holding no matching stream, are not queried. Line filters
// become contains() and regexp_matches(), which use RE2 like Go's regexp:
// unanchored, case-sensitive, "." not matching "\n" unless (?s); patterns
// are checked with Go's regexp first.
//
// A contains filter (|=) whose value holds a run of 16 or more ASCII
// letters and digits (a request id, trace id, UUID or token) first asks
// the needle index: blocks whose filter lacks one of the value's keys are
// excluded with "NOT (seq BETWEEN ...)", which DuckDB turns into skipped
// row groups and vectors. needle.go explains why the index never hides a
// match. The filters of full blocks are written with the commit that fills
// them, and the open blocks' at Close; records of a block open at a crash
// are not indexed and are always read.
//
// Select reads a partition in time windows, nearest to where it starts
// first and growing fourfold, and each window in keyset pages on (ts, seq),
// so that a limited Select reads little more than it returns and an
// unlimited one never has more than one page materialised. Aggregate has
// DuckDB count per bucket, group and level, the stream-to-group mapping
// being passed in the query; Series answers from the stream bounds where it
// can.
//
// # Durability
//
// Append group-commits: concurrent calls wait for the one writer, which
// takes every batch waiting (up to 32,768 records) and commits them with
// one appender per day and kind, whose close commits them. Stream and level
// metadata are written before the records and needle filters after them,
// each in its own statement (see commitRows for why no explicit
// transaction). DuckDB writes each commit to the partition's WAL and
// fsyncs it before the commit returns
// (observed with strace on DuckDB 1.4.1: write(wal), fsync(wal), then the
// appender's close returns; TestCrashRecovery replays WALs left by a process that
// exits without Close). Close checkpoints every WAL into its database file.
//
// # Retention
//
// A day whose records have all expired is dropped by deleting its file,
// which returns the space to the file system; within a day, expired records
// are deleted in place and the file keeps its size. The size cap drops
// whole days, oldest first.
//
// # Memory
//
// DuckDB's buffer pool is capped by Options.MemoryLimit; Go holds the
// stream index (labels of every stream) and one page of rows per running
// Select. DuckDB compresses a row group in memory at checkpoint; below a
// 256 MiB limit row groups shrink from 122,880 to 16,384 rows so that this
// fits (at some cost in compression). Limits below about 64 MiB make
// checkpoints fail and uncompressed rows spill to Dir/tmp instead.
//
// # Concurrency
//
// One writer connection, serialised by a mutex, does every write; queries
// use a bounded pool of read connections and DuckDB's MVCC. A query holds a
// reference on the partitions it reads, so retention never deletes a file
// under it.
package duckstore
