// Package demo runs a simulated CRM web service that exposes realistic
// Prometheus metrics, so that `lookout demo` has live data to show.
//
// The service does not serve real API traffic. A generator goroutine
// advances a statistical model in short slices (see [Service.Step]) and
// records the requests each slice would have produced: request counts by
// method, endpoint and status, latency histograms, database connection
// usage and cache hits and misses. The model has a compressed daily cycle,
// a random walk on the request rate, per-endpoint latency profiles,
// occasional latency spikes and, every few minutes, a short burst of 5xx
// errors so that error-rate alerts have something to fire on.
//
// Metric names and labels follow what the CRM applications of Lookout's
// users already expose (http_requests_total, http_request_duration_seconds,
// db_connections_active, cache_hits_total, cache_misses_total), so their
// dashboards and alert rules can be tried against the demo unchanged.
//
// All randomness comes from Options.Seed, so a given seed and sequence of
// Step calls always produces the same metric values.
package demo
