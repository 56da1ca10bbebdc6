package loopback

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	for url, ok := range map[string]bool{
		"http://127.0.0.1:9090/api/v1/write": true,
		"http://127.5.0.1:9090":              true,
		"http://localhost:1/x":               true,
		"http://[::1]:9090/":                 true,
		"http://10.0.0.1:9090/":              false,
		"http://192.168.1.1/":                false,
		"http://example.com/":                false,
		"ftp://127.0.0.1/":                   false,
		"127.0.0.1:9090":                     false,
	} {
		err := Check(url)
		if ok {
			require.NoError(t, err, url)
		} else {
			require.Error(t, err, url)
		}
	}
}
