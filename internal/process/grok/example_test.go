package grok_test

import (
	"fmt"

	"github.com/lookout-dev/lookout/internal/process/grok"
)

func ExampleCompile() {
	p, err := grok.Compile(`^%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}`, nil)
	if err != nil {
		panic(err)
	}
	p.Match("2025-01-14 09:12:44,123 ERROR Payment gateway timeout", func(field, value string) {
		fmt.Printf("%s=%q\n", field, value)
	})
	// Output:
	// timestamp="2025-01-14 09:12:44,123"
	// level="ERROR"
	// message="Payment gateway timeout"
}
