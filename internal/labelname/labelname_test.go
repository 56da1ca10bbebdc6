package labelname

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"job": "job", "_x1": "_x1", "kubernetes.namespace": "kubernetes_namespace",
		"1abc": "_1abc", "a-b c": "a_b_c", "": "_", "é": "_", "user-agent": "user_agent", "@timestamp": "_timestamp",
	} {
		require.Equal(t, want, Sanitize(in), in)
		require.True(t, Valid(Sanitize(in)), in)
	}
	for _, bad := range []string{"", "9x", "a.b", "é", "a-b"} {
		require.False(t, Valid(bad), bad)
	}
	require.True(t, Valid("_9"))
}
