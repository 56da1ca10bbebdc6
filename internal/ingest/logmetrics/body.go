package logmetrics

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/golang/snappy"
)

// Errors returned by ReadBody. Map them to a status with BodyStatus.
var (
	// ErrTooLarge means the body, as sent or decompressed, exceeds the limit.
	ErrTooLarge = errors.New("request body too large")
	// ErrEncoding means the Content-Encoding is not one ReadBody decodes.
	ErrEncoding = errors.New("unsupported content encoding")
	// ErrCompression means the body does not decompress.
	ErrCompression = errors.New("corrupt compressed body")
)

// ReadBody reads r's body whole, undoing a Content-Encoding of gzip or
// snappy (block format), and fails with ErrTooLarge when either the body as
// sent or its decompressed form exceeds maxBytes.
func ReadBody(r *http.Request, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	if r.ContentLength > maxBytes {
		return nil, fmt.Errorf("read body of %d bytes over the limit of %d: %w", r.ContentLength, maxBytes, ErrTooLarge)
	}
	raw, err := readLimited(r.Body, maxBytes, r.ContentLength)
	if err != nil {
		return nil, err
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("open gzip body: %w: %w", ErrCompression, err)
		}
		out, err := readLimited(zr, maxBytes, -1)
		if err != nil && !errors.Is(err, ErrTooLarge) {
			return nil, fmt.Errorf("decompress gzip body: %w: %w", ErrCompression, err)
		}
		return out, err
	case "snappy":
		return DecodeSnappy(raw, maxBytes)
	default:
		return nil, fmt.Errorf("decode body with content encoding %q (want gzip, snappy or none): %w", enc, ErrEncoding)
	}
}

// DecodeSnappy decodes a snappy block, refusing before allocation an output
// larger than maxBytes.
func DecodeSnappy(b []byte, maxBytes int64) ([]byte, error) {
	n, err := snappy.DecodedLen(b)
	if err != nil {
		return nil, fmt.Errorf("decode snappy body: %w: %w", ErrCompression, err)
	}
	if int64(n) > maxBytes {
		return nil, fmt.Errorf("decode snappy body of %d bytes over the limit of %d: %w", n, maxBytes, ErrTooLarge)
	}
	out, err := snappy.Decode(nil, b)
	if err != nil {
		return nil, fmt.Errorf("decode snappy body: %w: %w", ErrCompression, err)
	}
	return out, nil
}

// readLimited reads r up to maxBytes+1 bytes. A size hint (the request's
// Content-Length; -1 when unknown) sizes the buffer once, where io.ReadAll
// would grow it by doubling.
func readLimited(r io.Reader, maxBytes, sizeHint int64) ([]byte, error) {
	var b []byte
	var err error
	if sizeHint >= 0 && sizeHint <= maxBytes {
		buf := bytes.NewBuffer(make([]byte, 0, sizeHint+bytes.MinRead))
		_, err = buf.ReadFrom(io.LimitReader(r, maxBytes+1))
		b = buf.Bytes()
	} else {
		b, err = io.ReadAll(io.LimitReader(r, maxBytes+1))
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("read body: %w", ErrTooLarge)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("read body over the limit of %d bytes: %w", maxBytes, ErrTooLarge)
	}
	return b, nil
}

// BodyStatus maps an error from ReadBody to the status to answer and the
// reason to count: 413, 415, 400 for a corrupt compressed body, and 400
// "malformed" for a body that could not be read at all.
func BodyStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge, ReasonTooLarge
	case errors.Is(err, ErrEncoding):
		return http.StatusUnsupportedMediaType, ReasonMediaType
	case errors.Is(err, ErrCompression):
		return http.StatusBadRequest, ReasonCompression
	}
	return http.StatusBadRequest, ReasonMalformed
}
