package ui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHandler(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		cache       string
		bodyHas     string
	}{
		{name: "root serves index", path: "/", status: http.StatusOK, contentType: "text/html", cache: "no-cache", bodyHas: `src="/js/app.js"`},
		{name: "client route serves index", path: "/graph", status: http.StatusOK, contentType: "text/html", cache: "no-cache", bodyHas: "<title>Lookout</title>"},
		{name: "nested client route serves index", path: "/targets/", status: http.StatusOK, contentType: "text/html", cache: "no-cache"},
		{name: "index by name", path: "/index.html", status: http.StatusOK, contentType: "text/html", cache: "no-cache"},
		{name: "module script", path: "/js/app.js", status: http.StatusOK, contentType: "javascript", cache: assetCacheControl, bodyHas: "import"},
		{name: "vendored chart library", path: "/vendor/uPlot.iife.min.js", status: http.StatusOK, contentType: "javascript", cache: assetCacheControl},
		{name: "stylesheet", path: "/style.css", status: http.StatusOK, contentType: "text/css", cache: assetCacheControl},
		{name: "unknown asset is not index", path: "/js/missing.js", status: http.StatusNotFound},
		{name: "unknown api path is not index", path: "/api/v1/nope", status: http.StatusNotFound},
		{name: "head", method: http.MethodHead, path: "/status", status: http.StatusOK, contentType: "text/html"},
		{name: "post rejected", method: http.MethodPost, path: "/", status: http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, tc.path, nil))

			require.Equal(t, tc.status, rec.Code)
			if tc.contentType != "" {
				require.Contains(t, rec.Header().Get("Content-Type"), tc.contentType)
			}
			if tc.cache != "" {
				require.Equal(t, tc.cache, rec.Header().Get("Cache-Control"))
			}
			if tc.bodyHas != "" {
				require.Contains(t, rec.Body.String(), tc.bodyHas)
			}
			if tc.status == http.StatusNotFound {
				require.NotContains(t, rec.Body.String(), "<html")
			}
		})
	}
}

func TestHandlerETag(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/js/app.js", nil))
	etag := rec.Header().Get("ETag")
	require.True(t, strings.HasPrefix(etag, `"`), "ETag %q", etag)

	req := httptest.NewRequest(http.MethodGet, "/js/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusNotModified, rec.Code)
}

// TestDistMatchesSource fails when web/src was edited without running
// web/build.sh, so the embedded assets cannot silently go stale.
func TestDistMatchesSource(t *testing.T) {
	src := filepath.Join("..", "..", "web", "src")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("web sources not available: %v", err)
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got, err := fs.ReadFile(dist, path.Join("dist", filepath.ToSlash(rel)))
		require.NoError(t, err, "%s is not in dist; run web/build.sh", rel)
		require.Equal(t, string(want), string(got), "dist/%s differs from web/src; run web/build.sh", rel)
		return nil
	})
	require.NoError(t, err)
}
