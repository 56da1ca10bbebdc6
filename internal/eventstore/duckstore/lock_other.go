//go:build !unix

package duckstore

// lockDir does nothing where flock is not available; DuckDB's own file
// locks still keep other processes out.
func lockDir(string) (func() error, error) {
	return func() error { return nil }, nil
}
