package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters compress with gzip by default
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/lookout-dev/lookout/internal/config"
	"github.com/lookout-dev/lookout/internal/ingest/otlp"
)

// disabled is the listen value that turns a listener off.
const disabled = "off"

// checkListenAuth refuses non-loopback listeners when no authentication is
// configured, unless the operator opted out explicitly.
func checkListenAuth(cfg *config.Config, insecureNoAuth bool) error {
	if cfg.Auth.Enabled() || insecureNoAuth || cfg.Server.InsecureNoAuth {
		return nil
	}
	for _, l := range []struct{ flag, addr string }{
		{"--listen (server.listen)", cfg.Server.Listen},
		{"--otlp-grpc-listen (server.otlp_grpc_listen)", cfg.Server.OTLPGRPCListen},
		{"--otlp-http-listen (server.otlp_http_listen)", cfg.Server.OTLPHTTPListen},
		{"--syslog-listen (logs.syslog_listen)", cfg.Logs.SyslogListen},
	} {
		if l.addr == "" || l.addr == disabled {
			continue
		}
		if !isLoopback(l.addr) {
			return fmt.Errorf("refusing to listen on %s (%s) without authentication: configure auth.bearer_tokens or auth.basic_auth_users, bind to 127.0.0.1, or pass --insecure-no-auth", l.addr, l.flag)
		}
	}
	return nil
}

// isLoopback reports whether addr binds only loopback interfaces.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a *App) listen() error {
	cfg := a.config()
	var err error
	if a.mainLn, err = net.Listen("tcp", cfg.Server.Listen); err != nil {
		return fmt.Errorf("listen on %s (server.listen): %w", cfg.Server.Listen, err)
	}
	if addr := cfg.Server.OTLPGRPCListen; addr != "" && addr != disabled {
		if a.grpcLn, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("listen on %s (server.otlp_grpc_listen): %w", addr, err)
		}
	}
	if addr := cfg.Server.OTLPHTTPListen; addr != "" && addr != disabled {
		if a.otlpHTTPLn, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("listen on %s (server.otlp_http_listen): %w", addr, err)
		}
	}
	return nil
}

func (a *App) closeListeners() {
	for _, l := range []net.Listener{a.mainLn, a.grpcLn, a.otlpHTTPLn} {
		if l != nil {
			_ = l.Close()
		}
	}
}

func (a *App) newHTTPServer(h http.Handler) *http.Server {
	cfg := a.config()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ReadTimeout:       time.Duration(cfg.Server.ReadTimeout),
		WriteTimeout:      time.Duration(cfg.Server.WriteTimeout),
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    1 << 20,
	}
}

// serve starts the HTTP and gRPC servers on the bound listeners.
func (a *App) serve() {
	api := a.newAPIRouter()
	a.mainSrv = a.newHTTPServer(a.mainHandler(api))
	a.goServe("http", func() error { return a.mainSrv.Serve(a.mainLn) })

	if a.otlpHTTPLn != nil {
		a.otlpHTTPSrv = a.newHTTPServer(a.otlpHTTPHandler(api))
		a.goServe("otlp_http", func() error { return a.otlpHTTPSrv.Serve(a.otlpHTTPLn) })
	}
	if a.grpcLn != nil {
		cfg := a.config()
		a.grpcSrv = grpc.NewServer(
			grpc.MaxRecvMsgSize(int(cfg.Ingest.MaxBodyBytes)),
			grpc.UnaryInterceptor(a.grpcAuth),
		)
		pmetricotlp.RegisterGRPCServer(a.grpcSrv, otlp.NewMetricsServer(a.otlpIngest(api, "otlp_grpc"), a.admission.Rejected))
		plogotlp.RegisterGRPCServer(a.grpcSrv, a.logs.otlp.GRPC())
		a.goServe("otlp_grpc", func() error { return a.grpcSrv.Serve(a.grpcLn) })
	}
}

func (a *App) goServe(name string, serve func() error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := serve()
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) && !a.stopped.Load() {
			a.logger.Error("listener stopped", "listener", name, "err", err)
			a.fail(fmt.Errorf("%s listener: %w", name, err))
		}
	}()
}

// grpcAuth applies the same credentials as HTTP to gRPC calls.
func (a *App) grpcAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if a.auth.Enabled() {
		md, _ := metadata.FromIncomingContext(ctx)
		var h string
		if v := md.Get("authorization"); len(v) > 0 {
			h = v[0]
		}
		if _, err := a.auth.Check(h); err != nil {
			a.admission.Rejected.WithLabelValues("otlp_grpc", "unauthorized").Inc()
			return nil, status.Error(codes.Unauthenticated, err.Error())
		}
	}
	return handler(ctx, req)
}
