// Package ui serves the embedded web interface.
//
// The assets under dist/ are the output of web/build.sh and are committed, so
// building the server needs no JavaScript toolchain.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// assetCacheControl is sent with every file except index.html. Asset names
// carry no content hash, so the lifetime stays short enough that an upgraded
// server is picked up within minutes; the ETag makes revalidation cheap.
const assetCacheControl = "public, max-age=600"

// file is one embedded asset, read once when the handler is built.
type file struct {
	name string
	data []byte
	etag string
}

// Handler returns an http.Handler that serves the embedded web interface.
//
// Existing files are served as they are. A path whose last segment has no
// file extension (such as /, /graph or /targets) is a client-side route and
// gets index.html. A missing path that looks like a file (/js/nope.js) or that
// lies under /api/ gets 404, so a broken asset reference never receives HTML.
// The handler is safe for concurrent use.
func Handler() http.Handler {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(fmt.Sprintf("BUG: embedded dist directory: %v", err))
	}
	files, err := load(root)
	if err != nil {
		panic(fmt.Sprintf("BUG: read embedded dist: %v", err))
	}
	index, ok := files["index.html"]
	if !ok {
		panic("BUG: embedded dist has no index.html")
	}
	return &handler{files: files, index: index}
}

type handler struct {
	files map[string]*file
	index *file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	w.Header().Set("X-Content-Type-Options", "nosniff")

	f, ok := h.files[name]
	switch {
	case ok && f != h.index:
		w.Header().Set("Cache-Control", assetCacheControl)
		serve(w, r, f)
	case ok || name == "" || !isAssetPath(name):
		// index.html itself and every client-side route. The shell must be
		// revalidated so that a new release's asset references are seen.
		w.Header().Set("Cache-Control", "no-cache")
		serve(w, r, h.index)
	default:
		http.NotFound(w, r)
	}
}

// isAssetPath reports whether a missing path must not fall back to index.html.
func isAssetPath(name string) bool {
	if name == "api" || strings.HasPrefix(name, "api/") || strings.HasPrefix(name, "-/") {
		return true
	}
	return strings.Contains(path.Base(name), ".")
}

func serve(w http.ResponseWriter, r *http.Request, f *file) {
	w.Header().Set("ETag", f.etag)
	// ServeContent picks the content type from the extension, answers
	// If-None-Match and Range requests, and skips the body for HEAD.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
}

func load(root fs.FS) (map[string]*file, error) {
	files := make(map[string]*file)
	err := fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files[name] = &file{
			name: path.Base(name),
			data: data,
			etag: `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
		return nil
	})
	return files, err
}
