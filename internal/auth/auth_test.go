package auth

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	commoncfg "github.com/prometheus/common/config"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lookout-dev/lookout/internal/config"
)

func basic(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }

func TestCheck(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret pass"), bcrypt.MinCost)
	require.NoError(t, err)
	tokenFile := filepath.Join(t.TempDir(), "agents.token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("file-token-0123456789\n"), 0o600))
	a, err := New(config.Auth{
		BearerTokens: []config.BearerToken{
			{Name: "grafana", Token: "inline-token-0123456789"},
			{Name: "agents", TokenFile: tokenFile},
		},
		BasicAuthUsers: map[string]commoncfg.Secret{"alice": commoncfg.Secret(hash)},
	}, "internal-token-0123456789")
	require.NoError(t, err)

	cases := []struct {
		name, header string
		want         Principal
		ok           bool
	}{
		{"inline token", "Bearer inline-token-0123456789", Principal{"grafana", "token"}, true},
		{"token file, trailing newline trimmed", "bearer file-token-0123456789", Principal{"agents", "token"}, true},
		{"internal token", "Bearer internal-token-0123456789", Principal{"lookout", "internal"}, true},
		{"basic", basic("alice", "s3cret pass"), Principal{"alice", "user"}, true},
		{"basic again (cached)", basic("alice", "s3cret pass"), Principal{"alice", "user"}, true},
		{"basic wrong password", basic("alice", "guess"), Principal{}, false},
		{"unknown user", basic("bob", "s3cret pass"), Principal{}, false},
		{"wrong token", "Bearer nope", Principal{}, false},
		{"malformed basic", "Basic %%%", Principal{}, false},
		{"nothing", "", Principal{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := a.Check(c.header)
			if !c.ok {
				require.ErrorIs(t, err, ErrUnauthenticated)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, p)
		})
	}

	// The cache never outlives a credential change: after alice's password
	// changes, the old one (verified and cached above) is refused.
	newHash, err := bcrypt.GenerateFromPassword([]byte("new pass"), bcrypt.MinCost)
	require.NoError(t, err)
	require.NoError(t, a.Update(config.Auth{BasicAuthUsers: map[string]commoncfg.Secret{"alice": commoncfg.Secret(newHash)}}))
	_, err = a.Check(basic("alice", "s3cret pass"))
	require.ErrorIs(t, err, ErrUnauthenticated, "a stale cached password is refused")
	_, err = a.Check(basic("alice", "new pass"))
	require.NoError(t, err)

	// With no credentials configured, everyone is anonymous.
	require.NoError(t, a.Update(config.Auth{}))
	p, err := a.Check("")
	require.NoError(t, err)
	require.Equal(t, "anonymous", p.Kind)
}

func TestUpdateFailsOnMissingTokenFile(t *testing.T) {
	_, err := New(config.Auth{BearerTokens: []config.BearerToken{{Name: "x", TokenFile: "/nonexistent/token"}}}, "")
	require.ErrorContains(t, err, `read token file of "x"`)
}
