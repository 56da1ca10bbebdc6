package duckstore

/*
// go-duckdb's bindings link with -rdynamic, for extensions loaded at run
// time. Lookout loads none (autoload_known_extensions is off), and
// exporting DuckDB's 54,000 symbols costs about 5 MiB of resident memory
// at start, when the dynamic linker reads the symbol table. The last
// export flag on the linker's command line wins.
#cgo LDFLAGS: -Wl,--no-export-dynamic
#include <stdint.h>

// From duckdb.h (DuckDB 1.4's C API, linked by go-duckdb's bindings).
typedef struct _duckdb_vector { void *internal_ptr; } *duckdb_vector;
void duckdb_vector_assign_string_element_len(duckdb_vector vector, uint64_t index, const char *str, uint64_t str_len);

// assign_strings sets rows [0, n) of a VARCHAR vector to the strings packed
// in buf, string i ending at ends[i]. DuckDB copies each string.
static void lookout_assign_strings(void *vec, const char *buf, const uint32_t *ends, uint64_t n) {
	uint32_t start = 0;
	for (uint64_t i = 0; i < n; i++) {
		duckdb_vector_assign_string_element_len((duckdb_vector)vec, i, buf + start, ends[i] - start);
		start = ends[i];
	}
}
*/
import "C"

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/marcboeker/go-duckdb/mapping"
	duckdb "github.com/marcboeker/go-duckdb/v2"
)

// chunkAppender appends rows to a records table through DuckDB's C
// appender, one data chunk of up to chunkRows rows at a time.
//
// go-duckdb's Appender takes a row as a slice of interface values and hands
// each string to DuckDB with three cgo calls (malloc, assign, free): with
// five string columns, that was a tenth of the CPU of a log push. Here the
// integer columns are written straight into the chunk's vectors, the
// strings of a column are packed into one Go buffer, and one cgo call per
// column and chunk assigns them.
type chunkAppender struct {
	app   mapping.Appender
	types []mapping.LogicalType
	chunk mapping.DataChunk
	n     int // rows in the chunk
	// strBytes counts the string bytes of the chunk's rows.
	strBytes int

	ts  []int64
	seq []uint64
	ids []uint32
	str *strColumns
}

// numStrCols is the number of VARCHAR columns of a records table: level,
// body, trace_id, span_id and attrs, after ts, seq and stream_id.
const numStrCols = 5

// recordColumns are the types of a records table's columns, in order.
var recordColumns = [3 + numStrCols]mapping.Type{
	mapping.TypeBigInt, mapping.TypeUBigInt, mapping.TypeUInteger,
	mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeVarchar,
}

// strColumns collect the strings of the chunk's VARCHAR columns.
type strColumns [numStrCols]struct {
	buf  []byte
	ends []uint32
}

// chunkRows is DuckDB's vector size, the rows a data chunk holds.
var chunkRows = int(mapping.VectorSize())

// connOf returns the DuckDB connection behind a go-duckdb driver
// connection. go-duckdb keeps it in an unexported field; TestChunkAppender
// fails if a go-duckdb upgrade moves it.
func connOf(dc driver.Conn) (mapping.Connection, error) {
	c, ok := dc.(*duckdb.Conn)
	if !ok {
		return mapping.Connection{}, fmt.Errorf("not a go-duckdb connection: %T", dc)
	}
	f := reflect.ValueOf(c).Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeFor[mapping.Connection]() {
		return mapping.Connection{}, errors.New("go-duckdb's connection has no conn field of type mapping.Connection")
	}
	conn := *(*mapping.Connection)(unsafe.Pointer(f.UnsafeAddr()))
	if conn.Ptr == nil {
		return mapping.Connection{}, errors.New("go-duckdb connection is closed")
	}
	return conn, nil
}

// newChunkAppender opens an appender on catalog.main.table, which must
// have the columns of a records table. It packs strings into bufs, which
// the caller may pass to its next appender once this one is closed.
func newChunkAppender(dc driver.Conn, catalog, table string, bufs *strColumns) (*chunkAppender, error) {
	conn, err := connOf(dc)
	if err != nil {
		return nil, err
	}
	for i := range bufs {
		b := &bufs[i]
		b.buf, b.ends = b.buf[:0], b.ends[:0]
		if cap(b.buf) > maxKeptBytes {
			b.buf = nil // a burst of long lines is not kept for good
		}
	}
	a := &chunkAppender{str: bufs}
	if mapping.AppenderCreateExt(conn, catalog, "main", table, &a.app) == mapping.StateError {
		err := errors.New(mapping.AppenderError(a.app))
		mapping.AppenderDestroy(&a.app)
		return nil, err
	}
	n := int(mapping.AppenderColumnCount(a.app))
	for i := range n {
		a.types = append(a.types, mapping.AppenderColumnType(a.app, mapping.IdxT(i)))
	}
	if n != len(recordColumns) {
		a.destroy()
		return nil, fmt.Errorf("table %s has %d columns, want %d", table, n, len(recordColumns))
	}
	for i, t := range a.types {
		if got := mapping.GetTypeId(t); got != recordColumns[i] {
			a.destroy()
			return nil, fmt.Errorf("column %d of table %s has type %d, want %d", i+1, table, got, recordColumns[i])
		}
	}
	a.chunk = mapping.CreateDataChunk(a.types)
	a.vectors()
	return a, nil
}

// vectors points the integer columns at the chunk's vectors, which
// DuckDB may reallocate when the chunk is reset.
func (a *chunkAppender) vectors() {
	data := func(col int) unsafe.Pointer {
		return mapping.VectorGetData(mapping.DataChunkGetVector(a.chunk, mapping.IdxT(col)))
	}
	a.ts = unsafe.Slice((*int64)(data(0)), chunkRows)
	a.seq = unsafe.Slice((*uint64)(data(1)), chunkRows)
	a.ids = unsafe.Slice((*uint32)(data(2)), chunkRows)
}

// maxChunkBytes bounds the string bytes the appender buffers before it
// hands a chunk to DuckDB, which keeps the packed offsets far from 4 GiB.
const maxChunkBytes = 64 << 20

// maxKeptBytes bounds the buffer of a string column kept between
// appenders.
const maxKeptBytes = 4 << 20

// append adds a row. Strings must be valid UTF-8. An error comes from
// DuckDB and invalidates the appender, so destroy then commits nothing.
func (a *chunkAppender) append(ts int64, seq uint64, id uint32, strs [numStrCols]string) error {
	if a.n == chunkRows || a.strBytes > maxChunkBytes {
		if err := a.appendChunk(); err != nil {
			return err
		}
	}
	a.ts[a.n], a.seq[a.n], a.ids[a.n] = ts, seq, id
	for i, s := range strs {
		c := &a.str[i]
		c.buf = append(c.buf, s...)
		c.ends = append(c.ends, uint32(len(c.buf)))
		a.strBytes += len(s)
	}
	a.n++
	return nil
}

// appendChunk hands the chunk's rows to the appender.
func (a *chunkAppender) appendChunk() error {
	if a.n == 0 {
		return nil
	}
	for i := range a.str {
		c := &a.str[i]
		if cap(c.buf) == 0 {
			c.buf = make([]byte, 0, 64) // a valid pointer even when every string is empty
		}
		vec := mapping.DataChunkGetVector(a.chunk, mapping.IdxT(3+i))
		C.lookout_assign_strings(vec.Ptr, (*C.char)(unsafe.Pointer(unsafe.SliceData(c.buf[:1]))),
			(*C.uint32_t)(unsafe.Pointer(unsafe.SliceData(c.ends))), C.uint64_t(a.n))
		c.buf, c.ends = c.buf[:0], c.ends[:0]
	}
	mapping.DataChunkSetSize(a.chunk, mapping.IdxT(a.n))
	state := mapping.AppendDataChunk(a.app, a.chunk)
	mapping.DataChunkReset(a.chunk)
	a.vectors()
	a.n, a.strBytes = 0, 0
	if state == mapping.StateError {
		return errors.New(mapping.AppenderError(a.app))
	}
	return nil
}

// close appends the last chunk, commits everything appended (the
// connection is in auto-commit mode) and frees the appender.
func (a *chunkAppender) close() error {
	err := a.appendChunk()
	if err == nil && mapping.AppenderFlush(a.app) == mapping.StateError {
		err = errors.New(mapping.AppenderError(a.app))
	}
	a.destroy()
	return err
}

// destroy frees the appender and its chunk. DuckDB flushes rows already
// handed to the appender, unless an error invalidated it; the rows still
// in the chunk are dropped.
func (a *chunkAppender) destroy() {
	if a.chunk.Ptr != nil {
		mapping.DestroyDataChunk(&a.chunk)
	}
	for i := range a.types {
		mapping.DestroyLogicalType(&a.types[i])
	}
	a.types = nil
	mapping.AppenderDestroy(&a.app)
}
