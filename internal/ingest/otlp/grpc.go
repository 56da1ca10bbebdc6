// Package otlp receives OTLP metrics over gRPC. The HTTP transport is served
// by Prometheus' own OTLP write handler; this package forwards gRPC exports
// to that same handler so both transports translate metrics identically
// (names, resource attribute promotion, delta handling) under one config.
package otlp

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricsServer implements the OTLP MetricsService on top of an HTTP handler
// that accepts protobuf ExportMetricsServiceRequests.
type MetricsServer struct {
	pmetricotlp.UnimplementedGRPCServer

	handler  http.Handler
	rejected *prometheus.CounterVec
}

// NewMetricsServer returns a gRPC metrics service feeding handler. rejected
// counts refused exports by reason under protocol "otlp_grpc".
func NewMetricsServer(handler http.Handler, rejected *prometheus.CounterVec) *MetricsServer {
	return &MetricsServer{handler: handler, rejected: rejected}
}

// Export implements pmetricotlp.GRPCServer.
func (s *MetricsServer) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	body, err := req.MarshalProto()
	if err != nil {
		s.reject("malformed")
		return pmetricotlp.NewExportResponse(), status.Errorf(codes.InvalidArgument, "encode request: %v", err)
	}
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/metrics", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-protobuf")
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, r)
	if rec.Code/100 == 2 {
		return pmetricotlp.NewExportResponse(), nil
	}
	msg := strings.TrimSpace(rec.Body.String())
	code := codes.Internal
	reason := "internal"
	switch {
	case rec.Code == http.StatusTooManyRequests:
		code, reason = codes.ResourceExhausted, "overloaded"
	case rec.Code == http.StatusServiceUnavailable:
		code, reason = codes.Unavailable, "unavailable"
	case rec.Code/100 == 4:
		code, reason = codes.InvalidArgument, "malformed"
	}
	s.reject(reason)
	return pmetricotlp.NewExportResponse(), status.Error(code, msg)
}

func (s *MetricsServer) reject(reason string) {
	if s.rejected != nil {
		s.rejected.WithLabelValues("otlp_grpc", reason).Inc()
	}
}
