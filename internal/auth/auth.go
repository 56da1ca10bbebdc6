// Package auth decides whether a request carries valid credentials. One
// Authenticator serves every listener and protocol: HTTP APIs, HTTP ingest
// and gRPC.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/lookout-dev/lookout/internal/config"
)

// ErrUnauthenticated is returned when credentials are missing or wrong.
var ErrUnauthenticated = errors.New("missing or invalid credentials: send Authorization: Bearer <token> or HTTP basic auth")

// Principal names who made a request. Its String never contains a secret.
type Principal struct {
	Name string
	Kind string // "token", "user", "anonymous" or "internal"
}

// LogValue keeps log lines free of anything but the name and kind.
func (p Principal) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("kind", p.Kind))
}

type token struct {
	name  string
	value []byte
}

// Authenticator checks credentials. It is safe for concurrent use; Update
// swaps the credentials atomically on config reload.
type Authenticator struct {
	mu       sync.RWMutex
	enabled  bool
	tokens   []token
	users    map[string][]byte
	internal []byte

	// verified caches successful bcrypt checks: bcrypt is deliberately slow
	// and ingest agents send the same basic-auth header with every request.
	// Keys are SHA-256 digests, so no password is held in clear.
	verified sync.Map // sha256(user+"\x00"+password) -> struct{}
}

// New returns an Authenticator for cfg. internalToken, if not empty, is an
// extra token accepted as the "internal" principal (the self-scrape job uses it).
func New(cfg config.Auth, internalToken string) (*Authenticator, error) {
	a := &Authenticator{internal: []byte(internalToken)}
	if err := a.Update(cfg); err != nil {
		return nil, err
	}
	return a, nil
}

// Update replaces the credentials. Token files are read now.
func (a *Authenticator) Update(cfg config.Auth) error {
	toks := make([]token, 0, len(cfg.BearerTokens))
	for _, t := range cfg.BearerTokens {
		v := string(t.Token)
		if t.TokenFile != "" {
			b, err := os.ReadFile(t.TokenFile)
			if err != nil {
				return fmt.Errorf("read token file of %q: %w", t.Name, err)
			}
			v = strings.TrimSpace(string(b))
			if v == "" {
				return fmt.Errorf("token file of %q is empty", t.Name)
			}
		}
		toks = append(toks, token{name: t.Name, value: []byte(v)})
	}
	users := make(map[string][]byte, len(cfg.BasicAuthUsers))
	for u, h := range cfg.BasicAuthUsers {
		users[u] = []byte(h)
	}
	a.mu.Lock()
	a.enabled = cfg.Enabled()
	a.tokens, a.users = toks, users
	a.mu.Unlock()
	a.verified.Clear()
	return nil
}

// Enabled reports whether credentials are required.
func (a *Authenticator) Enabled() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.enabled
}

// Check validates an Authorization header value.
func (a *Authenticator) Check(authorization string) (Principal, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	scheme, cred, _ := strings.Cut(authorization, " ")
	switch {
	case strings.EqualFold(scheme, "bearer"):
		cred = strings.TrimSpace(cred)
		if len(a.internal) > 0 && subtle.ConstantTimeCompare([]byte(cred), a.internal) == 1 {
			return Principal{Name: "lookout", Kind: "internal"}, nil
		}
		for _, t := range a.tokens {
			if subtle.ConstantTimeCompare([]byte(cred), t.value) == 1 {
				return Principal{Name: t.name, Kind: "token"}, nil
			}
		}
	case strings.EqualFold(scheme, "basic"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			break
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		hash, known := a.users[user]
		if !ok || !known {
			break
		}
		key := sha256.Sum256([]byte(user + "\x00" + pass))
		if _, hit := a.verified.Load(key); hit {
			return Principal{Name: user, Kind: "user"}, nil
		}
		if bcrypt.CompareHashAndPassword(hash, []byte(pass)) == nil {
			a.verified.Store(key, struct{}{})
			return Principal{Name: user, Kind: "user"}, nil
		}
	}
	if !a.enabled {
		return Principal{Name: "anonymous", Kind: "anonymous"}, nil
	}
	return Principal{}, ErrUnauthenticated
}

// Middleware rejects requests without valid credentials with 401 and a
// WWW-Authenticate challenge. onReject, if set, is called for each rejection.
func (a *Authenticator) Middleware(next http.Handler, onReject func(r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.Check(r.Header.Get("Authorization")); err != nil {
			if onReject != nil {
				onReject(r)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="lookout", charset="UTF-8"`)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
