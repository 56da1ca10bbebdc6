// Command loglayout measures how small DuckDB stores the lines that bench/cmd/loggen generates,
// in two layouts, to show what a log store built on DuckDB's column compression can reach:
//
//   - body: every line as one VARCHAR declared ZSTD, in file order (app.log, then nginx.log).
//     This is Lookout's body column at its best: no other columns, and the lines of a file
//     next to each other.
//   - fields: every line split into typed columns the way a schema-aware encoder would (a
//     template string for the line's constant parts, integers for ids, status, sizes and
//     durations, strings for addresses and request ids), knowing loggen's two formats exactly.
//     Timestamps are left out, as such an encoder would store them as a difference to the
//     record's own timestamp, which is zero here. The layout is not a store: an encoder that has
//     to learn the formats from the lines would at best match it with DuckDB's compression.
//
// It prints one JSON object: the raw bytes and lines, and for each layout the bytes of its DuckDB
// file (less an empty file's), bytes per line and the ratio raw ÷ bytes.
//
// With -partition it measures a partition file of the event store instead: each column of its
// log records, and its needle index, copied into a DuckDB file of its own, in bytes and bytes per
// record. Those figures are rounded up to DuckDB's 256 KiB blocks.
//
// Nothing leaves the machine; the files go to a temporary directory that is removed at exit.
package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/marcboeker/go-duckdb/v2"
)

// storageVersion matches the event store's partitions (internal/eventstore/duckstore).
const storageVersion = "v1.4.0"

type layout struct {
	Name         string  `json:"name"`
	Bytes        int64   `json:"bytes"`
	BytesPerLine float64 `json:"bytes_per_line"`
	Ratio        float64 `json:"ratio"`
}

type column struct {
	Name           string  `json:"name"`
	Bytes          int64   `json:"bytes"`
	BytesPerRecord float64 `json:"bytes_per_record"`
}

type partitionResult struct {
	Partition string   `json:"partition"`
	Records   int64    `json:"records"`
	Columns   []column `json:"columns"`
}

type result struct {
	Dir      string   `json:"dir"`
	Lines    int64    `json:"lines"`
	RawBytes int64    `json:"raw_bytes"`
	Layouts  []layout `json:"layouts"`
}

// readLines is a table of one file's lines in order: (line, rn).
func readLines(path string) string {
	return fmt.Sprintf(`SELECT line, row_number() OVER () AS rn FROM read_csv(%s,
		columns={'line': 'VARCHAR'}, delim=E'\x01', quote='', escape='', header=false)`, quote(path))
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// appFields splits loggen's JSON app lines. The template keeps what is constant for a line
// shape: message, level, method, the path without its numeric id, whether the line has a status,
// and how many decimals its duration has (so that the line could be rebuilt byte for byte).
const appFields = `SELECT
	concat_ws('|', regexp_extract(line, '"message":"([^"]*)"', 1), regexp_extract(line, '"level":"([^"]*)"', 1),
		regexp_extract(line, '"method":"([^"]*)"', 1),
		regexp_replace(regexp_extract(line, '"path":"([^"]*)"', 1), '[0-9]{3,}', '#'),
		(line LIKE '%"status":%')::VARCHAR,
		length(regexp_extract(line, '"duration_ms":[0-9]+\.?([0-9]*)', 1))::VARCHAR) AS tpl,
	regexp_extract(line, '"request_id":"([^"]*)"', 1) AS request_id,
	regexp_extract(line, '"user_id":"u_([0-9]+)"', 1)::BIGINT AS user_id,
	regexp_extract(line, '"ip":"([^"]*)"', 1) AS ip,
	nullif(regexp_extract(regexp_extract(line, '"path":"([^"]*)"', 1), '([0-9]{3,})', 1), '')::BIGINT AS path_id,
	nullif(regexp_extract(line, '"status":([0-9]+)', 1), '')::SMALLINT AS status,
	nullif(replace(regexp_extract(line, '"duration_ms":([0-9.]+)', 1), '.', ''), '')::BIGINT AS duration
FROM app ORDER BY rn`

// nginxFields splits nginx "combined" lines the same way.
const nginxFields = `SELECT
	concat_ws('|', regexp_extract(line, '\] "([A-Z]+) ', 1),
		regexp_replace(regexp_extract(line, '\] "[A-Z]+ (\S+)', 1), '[0-9]{3,}', '#'),
		regexp_extract(line, ' (HTTP/[0-9.]+)"', 1), regexp_extract(line, '"([^"]*)" "[^"]*"$', 1),
		regexp_extract(line, '"([^"]*)"$', 1)) AS tpl,
	regexp_extract(line, '^(\S+)', 1) AS ip,
	regexp_extract(line, '^\S+ - (\S+)', 1) AS remote_user,
	nullif(regexp_extract(regexp_extract(line, '\] "[A-Z]+ (\S+)', 1), '([0-9]{3,})', 1), '')::BIGINT AS path_id,
	regexp_extract(line, '" ([0-9]{3}) ', 1)::SMALLINT AS status,
	regexp_extract(line, '" [0-9]{3} ([0-9]+) ', 1)::BIGINT AS size
FROM nginx ORDER BY rn`

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loglayout", flag.ContinueOnError)
	dir := fs.String("dir", ".", "directory holding loggen's app.log and nginx.log")
	part := fs.String("partition", "", "measure this event store partition file (YYYYMMDD-GEN.duckdb, the server stopped) instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "loglayout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string) error {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%w\n%s", err, q)
		}
		return nil
	}
	file := fileWriter(exec, tmp)
	empty, err := file("empty", "CREATE TABLE d.t (x INTEGER)")
	if err != nil {
		return err
	}
	if *part != "" {
		return measurePartition(db, exec, file, empty, *part, stdout)
	}

	res := result{Dir: *dir}
	for _, f := range []struct{ table, file string }{{"app", "app.log"}, {"nginx", "nginx.log"}} {
		p := filepath.Join(*dir, f.file)
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		res.RawBytes += st.Size()
		if err := exec("CREATE TABLE " + f.table + " AS " + readLines(p)); err != nil {
			return err
		}
	}
	if err := db.QueryRow("SELECT (SELECT count(*) FROM app) + (SELECT count(*) FROM nginx)").Scan(&res.Lines); err != nil {
		return err
	}
	if res.Lines == 0 {
		return errors.New("no lines")
	}
	// The split must find every field on every line, or the fields layout would leave bytes out.
	for _, c := range []struct{ fields, missing string }{
		{appFields, "request_id = '' OR user_id IS NULL OR ip = '' OR (status IS NULL) <> (duration IS NULL)"},
		{nginxFields, "ip = '' OR remote_user = '' OR status IS NULL OR size IS NULL"},
	} {
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM (" + c.fields + ") WHERE " + c.missing).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d lines do not split into fields (%s): not loggen's formats?", n, c.missing)
		}
	}
	layouts := []struct {
		name  string
		stmts []string
	}{
		{"body", []string{
			"CREATE TABLE d.t (body VARCHAR USING COMPRESSION zstd)",
			"INSERT INTO d.t SELECT line FROM app ORDER BY rn",
			"INSERT INTO d.t SELECT line FROM nginx ORDER BY rn",
		}},
		{"fields", []string{
			"CREATE TABLE d.app AS " + appFields,
			"CREATE TABLE d.nginx AS " + nginxFields,
		}},
	}
	for _, l := range layouts {
		size, err := file(l.name, l.stmts...)
		if err != nil {
			return err
		}
		size -= empty
		res.Layouts = append(res.Layouts, layout{
			Name: l.name, Bytes: size,
			BytesPerLine: float64(size) / float64(res.Lines),
			Ratio:        float64(res.RawBytes) / float64(size),
		})
	}
	return json.NewEncoder(stdout).Encode(res)
}

// fileWriter returns a function that writes one DuckDB file in dir, with the given statements
// run against it attached as d, and returns the file's size.
func fileWriter(exec func(string) error, dir string) func(name string, stmts ...string) (int64, error) {
	return func(name string, stmts ...string) (int64, error) {
		p := filepath.Join(dir, name+".duckdb")
		if err := exec("ATTACH " + quote(p) + " AS d (STORAGE_VERSION '" + storageVersion + "')"); err != nil {
			return 0, err
		}
		for _, s := range stmts {
			if err := exec(s); err != nil {
				return 0, err
			}
		}
		if err := exec("DETACH d"); err != nil {
			return 0, err
		}
		st, err := os.Stat(p)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
}

// measurePartition copies each column of the partition's log records, and its needle index, into
// a file of its own, in the partition's row order.
func measurePartition(db *sql.DB, exec func(string) error, file func(string, ...string) (int64, error), empty int64,
	path string, stdout io.Writer) error {
	if err := exec("ATTACH " + quote(path) + " AS p (READ_ONLY)"); err != nil {
		return err
	}
	res := partitionResult{Partition: path}
	if err := db.QueryRow("SELECT count(*) FROM p.log").Scan(&res.Records); err != nil {
		return err
	}
	if res.Records == 0 {
		return errors.New("the partition holds no log records")
	}
	add := func(name string, stmts ...string) error {
		size, err := file(name, stmts...)
		if err != nil {
			return err
		}
		size -= empty
		res.Columns = append(res.Columns, column{Name: name, Bytes: size, BytesPerRecord: float64(size) / float64(res.Records)})
		return nil
	}
	rows, err := db.Query(`SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = 'p' AND schema_name = 'main' AND table_name = 'log' ORDER BY column_index`)
	if err != nil {
		return err
	}
	var cols [][2]string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, [2]string{name, typ})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cols {
		decl := c[1]
		if c[0] == "body" {
			decl += " USING COMPRESSION zstd" // as the store declares it
		}
		if err := add(c[0], "CREATE TABLE d.t (c "+decl+")", "INSERT INTO d.t SELECT "+quoteIdent(c[0])+" FROM p.log ORDER BY rowid"); err != nil {
			return err
		}
	}
	if err := add("needle index", "CREATE TABLE d.t AS SELECT * FROM p.blooms"); err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loglayout:", err)
		os.Exit(1)
	}
}
